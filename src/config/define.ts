import type { PortbrokerConfigInput, ServiceInput } from './schema.js';

/** How portbroker decides a service is ready; by default, when its port accepts connections. */
export interface ReadyCheck {
  /** Ready when `GET <path>` answers 2xx or 3xx, e.g. `/health`. */
  http?: string;
  /** Ready when the port accepts a TCP connection. */
  tcp?: boolean;
  /** Ready when a line of the service's output matches. */
  log?: string | RegExp;
  /** Give up and mark the service failed after this long (default 60 000). */
  timeoutMs?: number;
}

export interface ServiceConfig {
  /** Run through the shell; `$PORT` and `{port}` hold the service's port. Without it the port is only reserved. */
  command?: string;
  /** Working folder, relative to the config file. */
  cwd?: string;
  /** Extra variables; values may use `${port}`, `${url}`, `${<service>.port}`, `${<service>.url}`. */
  env?: Record<string, string | number | boolean>;
  /** Pin the port instead of letting the allocator choose. */
  port?: number;
  /** More variable names that receive the port, besides `PORT`. */
  portEnv?: string[];
  /** Extra names routed to this service: `app` → `app.localhost`. */
  hostnames?: string[];
  /** `false`: not HTTP, no route through the proxy, and no URL unless `url` gives one. */
  proxy?: boolean;
  /** The URL of a `proxy: false` service, for a scheme of its own: `postgres://127.0.0.1:${port}/app`. */
  url?: string;
  /** Services that must be ready before this one starts. */
  dependsOn?: string[];
  ready?: ReadyCheck;
  /** Default `'on-failure'`, with exponential backoff. */
  restart?: 'no' | 'on-failure' | 'always';
  /** `'on-demand'`: started by the first request through the proxy. */
  start?: 'always' | 'on-demand';
  /** Stop an on-demand service after this long without requests. */
  idleStopMs?: number;
  /** How long a stopping service gets between SIGTERM and SIGKILL (default: the project's, 5 000). */
  shutdownGraceMs?: number;
}

export interface PortbrokerConfig {
  /** Project name; defaults to the package.json name (scope dropped), else the folder name. */
  name?: string;
  proxy?: {
    /** The one port the shared proxy listens on (default 7355). */
    port?: number;
    /** Serve the proxy over TLS with a local CA. */
    https?: boolean;
  };
  ports?: {
    /** Where allocated ports come from (default `[49152, 65535]`). */
    range?: [number, number];
  };
  /** Grace between SIGTERM and SIGKILL when stopping services (default 5 000). */
  shutdownGraceMs?: number;
  /** `false`: never add this project's names to the hosts file (see `portbroker hosts`). */
  hosts?: boolean;
  services: Record<string, ServiceConfig>;
}

// The hand-written types above document the fields; these lines keep them in step with the schema.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const configInSync: Same<PortbrokerConfig, PortbrokerConfigInput> = true;
const serviceInSync: Same<ServiceConfig, ServiceInput> = true;
void configInSync;
void serviceInSync;

/**
 * Types a `portbroker.config.ts`. It returns its argument unchanged: validation happens when portbroker
 * loads the file, so a plain object literal works too.
 */
export function defineConfig(config: PortbrokerConfig): PortbrokerConfig {
  return config;
}
