/**
 * The programmatic API, a contract: what a program needs to do what the CLI does, each function returning the
 * object its `--json` prints. Nothing internal (registry writes, the allocator, the proxy server) is exported:
 * those change without notice. A test imports the built package by name and drives it (test/api).
 */

// The config
export { defineConfig, type PortbrokerConfig, type ServiceConfig, type ReadyCheck } from './config/define.js';
export { loadConfig, type LoadConfigOptions } from './config/load.js';
export type { ProjectConfig, ServiceSpec, ReadySpec } from './config/project-config.js';
export type { CommonOptions } from './project/context.js';
export { PortbrokerError, ConfigError, UsageError, type ConfigProblem } from './errors.js';

// Running services
export { up, type UpOptions, type Session, type ServiceView, type RunnerEvent, type ServiceStatus } from './commands/up.js';
export { run, type RunOptions } from './commands/run.js';
export { restart, stop, start, type ControlOptions, type ActionResult } from './commands/control.js';
export { down, type DownResult } from './commands/down.js';
export { logs, followLogs, type LogLine, type LogsOptions, type LogFollowOptions } from './commands/logs.js';

// Ports, URLs and the machine
export { port, url } from './commands/port.js';
export { env } from './commands/env.js';
export { ls, type LsOptions } from './commands/ls.js';
export type { ServiceInfo } from './ports/service-info.js';
export type { ServiceState } from './ports/registry.js';
export { who, type WhoResult, type Reservation } from './commands/who.js';
export { doctor, type Check, type CheckStatus } from './commands/doctor.js';
export { release, type ReleaseOptions, type ReleaseResult, type Released } from './commands/release.js';
export { alias, type AliasOptions, type AliasResult } from './commands/alias.js';
export { proxyStart, proxyStop, proxyStatus, type ProxyOptions, type ProxyStartResult, type ProxyStopResult, type ProxyStatus } from './commands/proxy.js';
export { trust, type TrustOptions, type TrustResult, type TrustStoreResult } from './commands/trust.js';
