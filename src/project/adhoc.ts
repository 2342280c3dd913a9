import path from 'node:path';
import { isDnsLabel, RESERVED_SERVICE_NAMES } from '../config/names.js';
import { DEFAULTS, type ProjectConfig, type ServiceSpec } from '../config/project-config.js';
import type { CheckoutRecord } from '../ports/registry.js';
import { defaultProjectName } from '../config/resolve.js';
import { UsageError } from '../errors.js';
import { reserveCheckout } from '../ports/reservations.js';
import { resolveContext, type CommonOptions } from './context.js';
import type { Project } from './open.js';

export interface AdHocService {
  name: string;
  /** The shell command; without it, the config's command for that service. */
  command?: string;
  /** A pinned port (`--port`). */
  port?: number;
}

/**
 * The project of `portbroker run <name> -- <cmd>`, which needs no config: the config found from the current
 * folder if there is one (its project, its other services' variables), else the folder itself (named after
 * its package.json or its folder). The ad-hoc service joins that project's reservations; a service of the same
 * name in the config lends it its settings (env, ready, hostnames…).
 */
export async function openAdHocProject(service: AdHocService, options: CommonOptions = {}): Promise<Project> {
  const { name } = service;
  if (!isDnsLabel(name)) throw new UsageError(`"${name}" is not a valid service name: use a-z, 0-9 and "-" (1-63 characters, no "-" at either end)`);
  if (RESERVED_SERVICE_NAMES.has(name)) throw new UsageError(`"${name}" is reserved for portbroker's own dashboard; pick another name`);
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const { config: found, settings } = await resolveContext(options, 'optional');
  const declared = found?.services[name];
  const command = service.command ?? declared?.command;
  if (!command) {
    throw new UsageError(`run needs a command after "--"${found ? ` (${name} has none in ${path.basename(found.file ?? '')})` : ''}`, [
      `e.g. portbroker run ${name} -- python3 -m http.server {port}`,
    ]);
  }
  const spec = adHocSpec(name, {
    command,
    cwd,
    port: service.port ?? declared?.port,
    declared,
  });
  const root = found?.root ?? cwd;
  const config: ProjectConfig = {
    file: found?.file,
    root,
    name: found?.name ?? defaultProjectName(root),
    proxy: found?.proxy ?? {},
    range: found?.range,
    hosts: found?.hosts,
    services: { ...found?.services, [name]: spec },
    order: [...(found?.order ?? []).filter((s) => s !== name), name],
  };
  const checkout = await reserveCheckout(config, settings, options);
  return { config, settings, checkout };
}

/**
 * The spec `run` gives its service: a service of the same name in the config lends its settings (env, ready,
 * hostnames…); otherwise it is marked ad hoc, so later commands know it as such.
 */
function adHocSpec(
  name: string,
  from: { command?: string; cwd: string; port?: number; declared?: ServiceSpec; proxy?: boolean; url?: string; hostnames?: string[] },
): ServiceSpec {
  const { declared } = from;
  return {
    name,
    command: from.command,
    cwd: from.cwd,
    env: declared?.env ?? {},
    port: from.port,
    portEnv: declared?.portEnv ?? [],
    hostnames: declared?.hostnames ?? from.hostnames ?? [],
    proxy: declared?.proxy ?? from.proxy ?? true,
    url: declared?.url ?? from.url,
    // What it depends on may already run under `up`; `run` starts only its own command.
    dependsOn: [],
    ready: declared?.ready ?? { timeoutMs: DEFAULTS.readyTimeoutMs },
    // `run` ends when its command ends, with its status, like the command run by hand would.
    restart: 'no',
    start: 'always',
    shutdownGraceMs: declared?.shutdownGraceMs ?? DEFAULTS.shutdownGraceMs,
    adHoc: declared ? undefined : true,
  };
}

/**
 * The config plus the services `portbroker run` added beside it (recorded ad hoc in the registry), so `port`,
 * `url`, `env`, `ls` and `release` know them. They stay out of `order`: `up` starts only what the config declares.
 */
export function withAdHocServices(config: ProjectConfig, checkout: CheckoutRecord | undefined): ProjectConfig {
  const extra = Object.entries(checkout?.services ?? {}).filter(([name, rec]) => rec.adHoc && !(name in config.services));
  if (extra.length === 0) return config;
  const specs = extra.map(([name, rec]) => [
    name,
    adHocSpec(name, { command: rec.command, cwd: config.root, port: rec.pinned ? rec.port : undefined, proxy: rec.proxy, url: rec.url, hostnames: rec.hostnames }),
  ]);
  return { ...config, services: { ...config.services, ...Object.fromEntries(specs) } };
}
