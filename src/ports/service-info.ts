import { expandUrlTemplate, qualifiedHost, urlFor } from '../config/names.js';
import { findListeners } from '../platform/sockets.js';
import { isAlive } from '../platform/proc.js';
import { isServing, serviceState, waitsForRequest, type LiveState, type Liveness } from './live-state.js';
import type { CheckoutRecord, RegistryData, ServiceRecord } from './registry.js';

/** One reservation as `ls --json` shows it (and `port --json`, `url --json`, the dashboard's API). */
export interface ServiceInfo {
  project: string;
  /** The checkout's label; empty for a main checkout. */
  label: string;
  service: string;
  port: number;
  /** null for a `proxy: false` service without a `url` template. */
  url: string | null;
  /**
   * `orphaned`: its supervisor is gone but its process still serves; `on-demand`: not running, and its live
   * supervisor starts it at its first request through the proxy (see live-state.ts).
   */
  state: LiveState | 'on-demand';
  pid: number | null;
  root: string;
  pinned: boolean;
  /**
   * `alias`: a static route made with `portbroker alias`, not a service of any config; `ad-hoc`: added by
   * `portbroker run`, not declared in the config.
   */
  kind: 'service' | 'ad-hoc' | 'alias';
  /** When its current process started (ISO), while it runs or starts. */
  startedAt: string | null;
  uptimeSeconds: number | null;
  /** How many times its supervisor started it again (crashes, `restart`, on-demand starts after idle). */
  restarts: number;
  /** The live portbroker process supervising it (null when none does). */
  supervisor: number | null;
}

/** For checkouts whose config is not loaded (`ls --all`, the dashboard), the URL is rebuilt from the record. */
export function infoFromRecord(checkout: CheckoutRecord, name: string, proxyPort: number, https: boolean, alive: Liveness = isAlive): ServiceInfo {
  const rec = checkout.services[name]!;
  const url = rec.proxy ? urlFor(qualifiedHost(name, checkout.project, checkout.label), proxyPort, https) : rec.url ? expandUrlTemplate(rec.url, rec.port) : null;
  return serviceInfo(checkout, name, rec, url, alive);
}

export function serviceInfo(checkout: CheckoutRecord, name: string, rec: ServiceRecord, url: string | null, alive: Liveness = isAlive): ServiceInfo {
  const live = serviceState(checkout, rec, alive);
  const state = waitsForRequest(rec, alive) ? 'on-demand' : live;
  return {
    project: checkout.project,
    label: checkout.label,
    service: name,
    port: rec.port,
    url,
    state,
    pid: isServing(live) ? (rec.pid ?? null) : null,
    root: checkout.root,
    pinned: rec.pinned === true,
    kind: rec.adHoc ? 'ad-hoc' : 'service',
    ...runFacts(rec, live, alive),
  };
}

/** Every reservation on this machine (by project, label, service), then the aliases: `ls --all`. */
export function everyService(data: RegistryData, proxyPort: number, https: boolean): ServiceInfo[] {
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
      startedAt: null,
      uptimeSeconds: null,
      restarts: 0,
      supervisor: null,
    });
  }
  return rows;
}

/** Uptime, restarts and supervisor, from what the supervisor recorded. */
function runFacts(rec: ServiceRecord, state: LiveState, alive: Liveness): Pick<ServiceInfo, 'startedAt' | 'uptimeSeconds' | 'restarts' | 'supervisor'> {
  const live = isServing(state) && rec.startedAt !== undefined;
  const started = live ? Date.parse(rec.startedAt!) : NaN;
  return {
    startedAt: Number.isNaN(started) ? null : rec.startedAt!,
    uptimeSeconds: Number.isNaN(started) ? null : Math.max(0, Math.round((Date.now() - started) / 1000)),
    restarts: rec.restarts ?? 0,
    supervisor: rec.owner !== undefined && alive(rec.owner) ? rec.owner : null,
  };
}
