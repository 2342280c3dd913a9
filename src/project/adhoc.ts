import path from 'node:path';
import { isDnsLabel, RESERVED_SERVICE_NAMES } from '../config/names.js';
import { DEFAULTS, type ProjectConfig, type ServiceSpec } from '../config/project-config.js';
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
  const spec: ServiceSpec = {
    name,
    command,
    cwd,
    env: declared?.env ?? {},
    port: service.port ?? declared?.port,
    portEnv: declared?.portEnv ?? [],
    hostnames: declared?.hostnames ?? [],
    proxy: declared?.proxy ?? true,
    // What it depends on may already run under `up`; `run` starts only its own command.
    dependsOn: [],
    ready: declared?.ready ?? { timeoutMs: DEFAULTS.readyTimeoutMs },
    // `run` ends when its command ends, with its status, like the command run by hand would.
    restart: 'no',
    start: 'always',
    shutdownGraceMs: declared?.shutdownGraceMs ?? DEFAULTS.shutdownGraceMs,
  };
  const root = found?.root ?? cwd;
  const config: ProjectConfig = {
    file: found?.file,
    root,
    name: found?.name ?? defaultProjectName(root),
    proxy: found?.proxy ?? {},
    range: found?.range,
    services: { ...found?.services, [name]: spec },
    order: [...(found?.order ?? []).filter((s) => s !== name), name],
  };
  const checkout = await reserveCheckout(config, settings, options);
  return { config, settings, checkout };
}
