/** The programmatic API: what the CLI does, as functions returning the objects `--json` prints. */
export { defineConfig, type PortbrokerConfig, type ServiceConfig, type ReadyCheck } from './config/define.js';
export { findConfig, loadConfig, type LoadConfigOptions } from './config/load.js';
export type { ProjectConfig, ServiceSpec, ReadySpec } from './config/project-config.js';
export { resolveSettings, type Settings } from './config/settings.js';
export { PortbrokerError, ConfigError, UsageError } from './errors.js';
export { allocatePorts, candidatePorts, preferredPort, serviceKey } from './ports/allocator.js';
export { readRegistry, updateRegistry, type RegistryData, type CheckoutRecord, type ServiceRecord } from './ports/registry.js';
export { reserveCheckout } from './ports/reservations.js';
export { openProject, serviceUrl, type Project, type CommonOptions } from './project/open.js';
export { projectEnvironment, serviceEnvironment } from './project/environment.js';
export { port, url } from './commands/port.js';
export { env } from './commands/env.js';
export { ls } from './commands/ls.js';
export { who } from './commands/who.js';
export { doctor } from './commands/doctor.js';
export { release } from './commands/release.js';
export { init } from './commands/init.js';
export { findListeners } from './platform/sockets.js';
