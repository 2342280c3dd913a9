import { urlFor } from '../config/names.js';
import { UsageError } from '../errors.js';
import { findListeners } from '../platform/sockets.js';
import { readRegistry } from '../ports/registry.js';
import { runningProxy } from '../proxy/state.js';
import { openProject, type CommonOptions } from '../project/open.js';
import { machineSettings } from './machine-settings.js';
import { infoFromProject, infoFromRecord, type ServiceInfo } from './service-info.js';

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
  const data = readRegistry(settings.home, options);
  const rows: ServiceInfo[] = [];
  const checkouts = Object.values(data.checkouts).sort((a, b) => a.project.localeCompare(b.project) || a.label.localeCompare(b.label));
  for (const checkout of checkouts) {
    for (const name of Object.keys(checkout.services).sort()) rows.push(infoFromRecord(checkout, name, proxyPort, https));
  }
  for (const [host, alias] of Object.entries(data.aliases).sort(([a], [b]) => a.localeCompare(b))) {
    const listener = findListeners(alias.port)[0];
    rows.push({
      project: '',
      label: '',
      service: host.replace(/\.localhost$/, ''),
      port: alias.port,
      url: urlFor(host, proxyPort, https),
      state: listener ? 'running' : 'stopped',
      pid: listener?.pid ?? null,
      root: '',
      pinned: true,
      kind: 'alias',
    });
  }
  return rows;
}

export function assertLsFormat(format: string | undefined): 'table' | 'markdown' {
  if (format === undefined || format === 'table') return 'table';
  if (format === 'markdown' || format === 'md') return 'markdown';
  throw new UsageError(`--format: "${format}" is not a format of ls; use table or markdown (or --json)`);
}
