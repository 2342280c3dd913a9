import type { PortRange } from '../platform/ephemeral.js';

/** A readiness probe with defaults applied. Without `http`, `tcp` or `log`, the port must accept connections. */
export interface ReadySpec {
  http?: string;
  tcp?: boolean;
  log?: RegExp;
  timeoutMs: number;
}

/** One service, normalised: absolute cwd, defaults applied, names checked. */
export interface ServiceSpec {
  name: string;
  command?: string;
  cwd: string;
  env: Record<string, string>;
  /** A pinned port; otherwise the allocator chooses. */
  port?: number;
  portEnv: string[];
  /** Extra hosts, already expanded to `*.localhost`. */
  hostnames: string[];
  proxy: boolean;
  /** A `proxy: false` service's URL template (`${port}` inside); HTTP services' URLs go through the proxy. */
  url?: string;
  dependsOn: string[];
  ready: ReadySpec;
  restart: 'no' | 'on-failure' | 'always';
  start: 'always' | 'on-demand';
  idleStopMs?: number;
  shutdownGraceMs: number;
  /** Added by `portbroker run` beside a config that does not declare it (never set by a config). */
  adHoc?: true;
}

/** The validated, resolved config of one checkout. Every stage after `loadConfig` trusts it. */
export interface ProjectConfig {
  /** Absolute path of the config file; undefined for an ad-hoc `portbroker run` in a folder without one. */
  file?: string;
  /** The checkout root: the folder the config belongs to. */
  root: string;
  /** Project name as a DNS label. */
  name: string;
  proxy: { port?: number; https?: boolean };
  range?: PortRange;
  /** `hosts: false`: never write the hosts file's portbroker block for this project. */
  hosts?: boolean;
  services: Record<string, ServiceSpec>;
  /** Service names in dependency order: every service after what it depends on. */
  order: string[];
}

export const DEFAULTS = {
  proxyPort: 7355,
  range: [49152, 65535] as PortRange,
  readyTimeoutMs: 60_000,
  shutdownGraceMs: 5_000,
} as const;
