import { DASHBOARD_HOST, expandHostname, qualifiedHost } from '../config/names.js';
import { serviceLogFile } from '../platform/paths.js';
import { isAlive } from '../platform/proc.js';
import { isServing, serviceState, type LiveState, type Liveness } from '../ports/live-state.js';
import type { CheckoutRecord, RegistryData, ServiceRecord } from '../ports/registry.js';

/**
 * The proxy's routing table: every name the proxy answers for, resolved once from the registry into a map so a
 * lookup is one `Map.get`. A table never changes; the route source builds a new one and swaps it whole.
 */

export { DASHBOARD_HOST };

/** Every name the dashboard answers on: its own, and the bare loopback names, which no service can have. */
export const DASHBOARD_HOSTS: readonly string[] = [DASHBOARD_HOST, 'localhost', '127.0.0.1', '::1'];

export interface ServiceRoute {
  kind: 'service';
  /** The canonical name: `web.acme.localhost`, `web.fix-login.acme.localhost`. */
  host: string;
  project: string;
  label: string;
  service: string;
  root: string;
  port: number;
  /** The state now (ports/live-state): `orphaned` when its supervisor died but its process serves. */
  state: LiveState;
  pid?: number;
  command?: string;
  onDemand: boolean;
  /** The live supervisor's control socket (on-demand starts, activity reports). */
  control?: string;
  /** How the user runs portbroker there (`npx portbroker`), as its last supervisor was run. */
  invokedAs: string;
  logFile: string;
}

/** `portbroker alias docker-api 8081`: a port portbroker does not manage; its state is unknown. */
export interface AliasRoute {
  kind: 'alias';
  host: string;
  port: number;
}

export type Route = ServiceRoute | AliasRoute;

export type Lookup =
  | { kind: 'route'; route: Route }
  | { kind: 'ambiguous'; host: string; candidates: ServiceRoute[] }
  | { kind: 'dashboard' }
  | { kind: 'unknown' };

const UNKNOWN: Lookup = Object.freeze({ kind: 'unknown' });
const DASHBOARD: Lookup = Object.freeze({ kind: 'dashboard' });

/** Whether traffic for the route can be forwarded now (an alias always can: nobody reports its state). */
export function isForwardable(route: Route): boolean {
  return route.kind === 'alias' || route.state === 'running' || route.state === 'orphaned';
}

export class RouteTable {
  private constructor(
    /** Every route, services first (by project, label, service), then aliases. */
    readonly routes: readonly Route[],
    private readonly byHost: ReadonlyMap<string, Lookup>,
  ) {}

  /** `alive`: how the processes' liveness is asked (the route source counts the answers to watch them after). */
  static fromRegistry(data: RegistryData, home: string, alive: Liveness = isAlive): RouteTable {
    const services: ServiceRoute[] = [];
    const extraNames = new Map<ServiceRoute, string[]>();
    for (const checkout of sortedCheckouts(data)) {
      for (const name of Object.keys(checkout.services).sort()) {
        const record = checkout.services[name]!;
        if (record.proxy === false) continue;
        const route = serviceRoute(home, checkout, name, record, alive);
        services.push(route);
        extraNames.set(route, (record.hostnames ?? []).map(expandHostname));
      }
    }
    const aliases: AliasRoute[] = Object.entries(data.aliases)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([host, alias]) => Object.freeze({ kind: 'alias' as const, host, port: alias.port }));

    // Highest claim first: portbroker's own name, canonical names, aliases, then the short and extra names,
    // which several checkouts may share.
    const byHost = new Map<string, Lookup>(DASHBOARD_HOSTS.map((host) => [host, DASHBOARD]));
    const claim = (host: string, lookup: Lookup) => {
      if (!byHost.has(host)) byHost.set(host, Object.freeze(lookup));
    };
    for (const route of services) claim(route.host, { kind: 'route', route });
    for (const route of aliases) claim(route.host, { kind: 'route', route });
    const shared = new Map<string, ServiceRoute[]>();
    for (const route of services) {
      for (const host of new Set([`${route.service}.localhost`, ...extraNames.get(route)!])) {
        const list = shared.get(host) ?? [];
        list.push(route);
        shared.set(host, list);
      }
    }
    for (const [host, candidates] of shared) claim(host, resolveShared(host, candidates));

    return new RouteTable(Object.freeze([...services, ...aliases]), byHost);
  }

  /** Equal for two tables with the same routes in the same states. */
  get signature(): string {
    return (this.#signature ??= JSON.stringify(this.routes));
  }

  #signature: string | undefined;

  lookup(host: string): Lookup {
    return this.byHost.get(host) ?? UNKNOWN;
  }

  /** The services that answer now, for the 404 page and the dashboard. */
  running(): ServiceRoute[] {
    return this.routes.filter((r): r is ServiceRoute => r.kind === 'service' && (r.state === 'running' || r.state === 'orphaned'));
  }
}

/**
 * A name several checkouts share (`web.localhost` when two projects have a `web`): when exactly one of them is
 * up, that one is meant; otherwise the user picks from a page listing the canonical names.
 */
function resolveShared(host: string, candidates: ServiceRoute[]): Lookup {
  if (candidates.length === 1) return { kind: 'route', route: candidates[0]! };
  const live = candidates.filter((r) => isServing(r.state));
  if (live.length === 1) return { kind: 'route', route: live[0]! };
  return { kind: 'ambiguous', host, candidates: Object.freeze([...candidates]) as ServiceRoute[] };
}

function serviceRoute(home: string, checkout: CheckoutRecord, service: string, record: ServiceRecord, alive: Liveness): ServiceRoute {
  const supervisorAlive = checkout.ownerPid !== undefined && alive(checkout.ownerPid);
  // An orphan (its supervisor was killed) still serves: it stays routed until the next `up` adopts or ends it.
  const state = serviceState(checkout, record, alive);
  return Object.freeze({
    kind: 'service' as const,
    host: qualifiedHost(service, checkout.project, checkout.label),
    project: checkout.project,
    label: checkout.label,
    service,
    root: checkout.root,
    port: record.port,
    state,
    pid: isServing(state) ? record.pid : undefined,
    command: record.command,
    onDemand: record.onDemand === true,
    control: supervisorAlive ? checkout.control : undefined,
    invokedAs: checkout.invokedAs ?? 'portbroker',
    logFile: serviceLogFile(home, checkout.project, checkout.label, service),
  });
}

function sortedCheckouts(data: RegistryData): CheckoutRecord[] {
  return Object.values(data.checkouts).sort((a, b) => a.project.localeCompare(b.project) || a.label.localeCompare(b.label));
}
