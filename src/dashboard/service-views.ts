import { qualifiedHost } from '../config/names.js';
import { serviceLogFile } from '../platform/paths.js';
import { isAlive } from '../platform/proc.js';
import { processTable } from '../platform/process-tree.js';
import type { ProcessUsageSampler, TreeUsage } from '../platform/process-usage.js';
import type { CheckoutRecord, RegistryData } from '../ports/registry.js';
import { infoFromRecord, type ServiceInfo } from '../ports/service-info.js';

/**
 * A service as the dashboard's API shows it: the object `ls --all --json` prints, plus what only a live view
 * needs (process tree usage, uptime, the names it answers on). Built from the registry on every call.
 */
export interface ServiceView extends ServiceInfo {
  /** How the API's paths name the checkout: `acme`, or `fix-login.acme` for a labelled one (as in its URL). */
  checkout: string;
  /** The canonical name the proxy routes to it; null when it is not HTTP (`proxy: false`). */
  host: string | null;
  proxy: boolean;
  onDemand: boolean;
  command: string | null;
  /** Ready: it answered its readiness check (its state is `running`). */
  ready: boolean;
  /** Percent of one core, over the last sampling interval. */
  cpuPercent: number | null;
  memoryBytes: number | null;
  processes: number | null;
}

export interface ViewContext {
  home: string;
  proxyPort: number;
  https?: boolean;
  sampler: ProcessUsageSampler;
}

/** Every service of every checkout, by project, label and service (aliases are the proxy's routes, not services). */
export function serviceViews(data: RegistryData, context: ViewContext, table = processTable()): ServiceView[] {
  // One pass over /proc (`table`) answers every liveness question and every process tree: asking /proc per pid (a
  // service, its supervisor, twice) took 50 ms of the proxy's event loop per update with 200 services, against 20.
  const alive = table ? (pid: number | undefined) => pid !== undefined && table.has(pid) : isAlive;
  const rows: Array<{ checkout: CheckoutRecord; info: ServiceInfo }> = [];
  const checkouts = Object.values(data.checkouts).sort((a, b) => a.project.localeCompare(b.project) || a.label.localeCompare(b.label));
  for (const checkout of checkouts) {
    for (const name of Object.keys(checkout.services).sort()) {
      rows.push({ checkout, info: infoFromRecord(checkout, name, context.proxyPort, context.https === true, alive) });
    }
  }
  const usage = context.sampler.sample(
    rows.flatMap(({ info }) => (info.pid ? [info.pid] : [])),
    table,
  );
  return rows.map(({ checkout, info }) => toView(checkout, info, info.pid ? usage.get(info.pid) : undefined));
}

function toView(checkout: CheckoutRecord, info: ServiceInfo, usage: TreeUsage | undefined): ServiceView {
  const record = checkout.services[info.service]!;
  return {
    ...info,
    checkout: checkoutId(checkout.project, checkout.label),
    host: record.proxy ? qualifiedHost(info.service, checkout.project, checkout.label) : null,
    proxy: record.proxy,
    onDemand: record.onDemand === true,
    command: record.command ?? null,
    ready: info.state === 'running',
    // A supervisor that records no start time (an older portbroker): the root process's, from /proc.
    ...(info.startedAt === null && info.pid !== null && usage?.startedAt
      ? { startedAt: usage.startedAt.toISOString(), uptimeSeconds: Math.max(0, Math.round((Date.now() - usage.startedAt.getTime()) / 1000)) }
      : {}),
    cpuPercent: usage?.cpuPercent ?? null,
    memoryBytes: usage?.memoryBytes ?? null,
    processes: usage?.processes ?? null,
  };
}

export function checkoutId(project: string, label: string): string {
  return label ? `${label}.${project}` : project;
}

/** The checkout and record a path's `:project/:service` names, or undefined. */
export function findService(data: RegistryData, checkout: string, service: string): { checkout: CheckoutRecord; name: string } | undefined {
  for (const candidate of Object.values(data.checkouts)) {
    if (checkoutId(candidate.project, candidate.label) === checkout && Object.hasOwn(candidate.services, service)) {
      return { checkout: candidate, name: service };
    }
  }
  return undefined;
}

export function logFileOf(home: string, checkout: CheckoutRecord, service: string): string {
  return serviceLogFile(home, checkout.project, checkout.label, service);
}
