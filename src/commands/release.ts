import { existsSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { isServing, serviceState } from '../ports/live-state.js';
import { readRegistry, updateRegistry, type CheckoutRecord } from '../ports/registry.js';
import { withAdHocServices } from '../project/adhoc.js';
import { resolveContext, type CommonOptions } from '../project/context.js';

export interface ReleaseOptions extends CommonOptions {
  /** Reservations nobody can use any more: checkouts whose folder or config is gone, services dropped from the config. */
  stale?: boolean;
  /** Every reservation of every project. */
  all?: boolean;
}

export interface Released {
  project: string;
  label: string;
  service: string;
  port: number;
  root: string;
}

export interface ReleaseResult {
  released: Released[];
  /** Kept because the service is running: stop it first. */
  kept: Array<Released & { pid: number | null }>;
}

/**
 * Drops reservations: the named services of this checkout, or (without names) all of them; `stale` and `all`
 * work across projects. A running service keeps its port.
 */
export async function release(services: string[], options: ReleaseOptions = {}): Promise<ReleaseResult> {
  if (options.all && (options.stale || services.length > 0)) throw new UsageError('--all releases everything; do not combine it with service names or --stale');
  // Without --stale or --all it acts on this checkout, so it needs the config; across projects it does not.
  const needsConfig = !options.all && (!options.stale || services.length > 0);
  const context = await resolveContext(options, needsConfig ? 'required' : 'if-loadable');
  const { settings } = context;
  // Services `run` added beside the config are this checkout's too (and not stale).
  const config = context.config && withAdHocServices(context.config, readRegistry(settings.home, options).checkouts[context.config.root]);
  if (config) {
    for (const name of services) {
      if (!(name in config.services)) throw new UsageError(`unknown service "${name}" in ${config.file}`, [`declared services: ${Object.keys(config.services).join(', ')}`]);
    }
  }

  return updateRegistry(
    settings.home,
    (data) => {
      const result: ReleaseResult = { released: [], kept: [] };
      const drop = (checkout: CheckoutRecord, name: string) => {
        const rec = checkout.services[name];
        if (!rec) return;
        const entry = { project: checkout.project, label: checkout.label, service: name, port: rec.port, root: checkout.root };
        if (isServing(serviceState(checkout, rec))) {
          result.kept.push({ ...entry, pid: rec.pid ?? null });
          return;
        }
        delete checkout.services[name];
        result.released.push(entry);
      };
      for (const checkout of Object.values(data.checkouts)) {
        const isThis = config !== undefined && checkout.root === config.root;
        if (options.all) {
          Object.keys(checkout.services).forEach((name) => drop(checkout, name));
        } else if (isThis && services.length > 0) {
          services.forEach((name) => drop(checkout, name));
        } else if (isThis && !options.stale) {
          Object.keys(checkout.services).forEach((name) => drop(checkout, name));
        } else if (options.stale) {
          const gone = !existsSync(checkout.root) || (checkout.configFile !== undefined && !existsSync(checkout.configFile));
          for (const name of Object.keys(checkout.services)) {
            if (gone || (isThis && !(name in config.services))) drop(checkout, name);
          }
        }
        if (Object.keys(checkout.services).length === 0) delete data.checkouts[checkout.root];
      }
      return result;
    },
    options,
  );
}
