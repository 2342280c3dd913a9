import { UsageError } from '../errors.js';
import type { PortRange } from '../platform/ephemeral.js';
import { hostsFilePath } from '../platform/hosts-file.js';
import { stateHome } from '../platform/paths.js';
import { DEFAULTS, type ProjectConfig } from './project-config.js';

/** Machine-level settings for one command: flags beat environment, environment beats config, config beats defaults. */
export interface Settings {
  home: string;
  proxyPort: number;
  range: PortRange;
  /** The proxy serves TLS and URLs are https:// (--https, PORTBROKER_HTTPS=1 or proxy.https). */
  https: boolean;
  /**
   * Keep the hosts file's portbroker block in step where the system resolver lacks `*.localhost` (default on;
   * PORTBROKER_HOSTS=0 or config `hosts: false` turns it off).
   */
  hosts: boolean;
  /** The hosts file: PORTBROKER_HOSTS_FILE, else the OS's. */
  hostsFile: string;
}

export interface SettingsInput {
  proxyPort?: number | string;
  https?: boolean;
  env?: NodeJS.ProcessEnv;
  config?: Pick<ProjectConfig, 'proxy' | 'range' | 'hosts'>;
}

export function resolveSettings(input: SettingsInput = {}): Settings {
  const env = input.env ?? process.env;
  const proxyPort =
    parsePort(input.proxyPort, '--proxy-port') ??
    parsePort(env.PORTBROKER_PROXY_PORT, 'PORTBROKER_PROXY_PORT') ??
    input.config?.proxy.port ??
    DEFAULTS.proxyPort;
  // SPEC order for the range: the config wins over the environment.
  const range = input.config?.range ?? parseRange(env.PORTBROKER_RANGE) ?? DEFAULTS.range;
  const https = input.https ?? (envFlag(env.PORTBROKER_HTTPS) || input.config?.proxy.https === true);
  const hosts = env.PORTBROKER_HOSTS !== undefined && env.PORTBROKER_HOSTS !== '' ? envFlag(env.PORTBROKER_HOSTS) : input.config?.hosts !== false;
  return { home: stateHome(env), proxyPort, range, https, hosts, hostsFile: hostsFilePath(env) };
}

/** A port from the command line or the environment; undefined when not given. `source` names it in the error. */
export function parsePort(value: number | string | undefined, source: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`${source}: "${value}" is not a port number (1-65535)`);
  }
  return port;
}

/** A port that must be given (a command's argument). */
export function requirePort(value: number | string | undefined, source: string): number {
  const port = parsePort(value, source);
  if (port === undefined) throw new UsageError(`${source}: "${value ?? ''}" is not a port number (1-65535)`);
  return port;
}

function parseRange(value: string | undefined): PortRange | undefined {
  if (!value) return undefined;
  const match = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(value);
  const lo = Number(match?.[1]);
  const hi = Number(match?.[2]);
  if (!match || lo < 1 || hi > 65535 || lo > hi) {
    throw new UsageError(`PORTBROKER_RANGE: "${value}" is not a range; write it as low-high, e.g. 49152-65535`);
  }
  return [lo, hi];
}

function envFlag(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes|on)$/i.test(value.trim());
}
