import { UsageError } from '../errors.js';
import { readRegistry } from '../ports/registry.js';
import { everyService } from '../ports/service-info.js';
import { runningProxy } from '../proxy/state.js';
import { openProject, type CommonOptions } from '../project/open.js';
import { machineSettings } from './machine-settings.js';
import { infoFromProject, type ServiceInfo } from './service-info.js';

export interface LsOptions extends CommonOptions {
  /** Every project on this machine, and the aliases. */
  all?: boolean;
}

/** The reservations of this project (of every project with `all`), in a stable order. */
export async function ls(options: LsOptions = {}): Promise<ServiceInfo[]> {
  if (!options.all) {
    const project = await openProject(options);
    const declared = project.config.order;
    // Services dropped from the config keep their reservation until released: show them after the rest.
    const leftover = Object.keys(project.checkout.services).filter((s) => !declared.includes(s)).sort();
    return [...declared, ...leftover].map((name) => infoFromProject(project, name));
  }
  const settings = await machineSettings(options);
  const proxy = runningProxy(settings.home);
  const proxyPort = proxy?.port ?? settings.proxyPort;
  const https = proxy?.https ?? settings.https;
  return everyService(readRegistry(settings.home, options), proxyPort, https);
}

export function assertLsFormat(format: string | undefined): 'table' | 'markdown' {
  if (format === undefined || format === 'table') return 'table';
  if (format === 'markdown' || format === 'md') return 'markdown';
  throw new UsageError(`--format: "${format}" is not a format of ls; use table or markdown (or --json)`);
}
