import { qualifiedHost, urlFor } from '../config/names.js';
import { findListeners } from '../platform/sockets.js';
import { liveState } from './live-state.js';
import type { CheckoutRecord, RegistryData, ServiceRecord, ServiceState } from './registry.js';

/** One reservation as `ls --json` shows it (and `port --json`, `url --json`, the dashboard's API). */
export interface ServiceInfo {
  project: string;
  /** The checkout's label; empty for a main checkout. */
  label: string;
  service: string;
  port: number;
  url: string;
  state: ServiceState;
  pid: number | null;
  root: string;
  pinned: boolean;
  /** `alias`: a static route made with `portbroker alias`, not a service of any config. */
  kind: 'service' | 'alias';
}

/** For checkouts whose config is not loaded (`ls --all`, the dashboard), the URL is rebuilt from the record. */
export function infoFromRecord(checkout: CheckoutRecord, name: string, proxyPort: number, https: boolean): ServiceInfo {
  const rec = checkout.services[name]!;
  const url = rec.proxy ? urlFor(qualifiedHost(name, checkout.project, checkout.label), proxyPort, https) : `http://127.0.0.1:${rec.port}`;
  return serviceInfo(checkout, name, rec, url);
}

export function serviceInfo(checkout: CheckoutRecord, name: string, rec: ServiceRecord, url: string): ServiceInfo {
  const state = liveState(rec);
  return {
    project: checkout.project,
    label: checkout.label,
    service: name,
    port: rec.port,
    url,
    state,
    pid: state === 'running' || state === 'starting' ? (rec.pid ?? null) : null,
    root: checkout.root,
    pinned: rec.pinned === true,
    kind: 'service',
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
    });
  }
  return rows;
}
