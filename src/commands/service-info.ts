import { expandUrlTemplate, qualifiedHost, urlFor } from '../config/names.js';
import { liveState } from '../ports/live-state.js';
import type { CheckoutRecord, ServiceRecord, ServiceState } from '../ports/registry.js';
import { serviceUrl, type Project } from '../project/open.js';

/** One reservation as `ls --json` shows it (and `port --json`, `url --json`). */
export interface ServiceInfo {
  project: string;
  /** The checkout's label; empty for a main checkout. */
  label: string;
  service: string;
  port: number;
  /** null for a `proxy: false` service without a `url` template. */
  url: string | null;
  state: ServiceState;
  pid: number | null;
  root: string;
  pinned: boolean;
  /**
   * `alias`: a static route made with `portbroker alias`, not a service of any config; `ad-hoc`: added by
   * `portbroker run`, not declared in the config.
   */
  kind: 'service' | 'ad-hoc' | 'alias';
}

export function infoFromProject(project: Project, name: string): ServiceInfo {
  const rec = project.checkout.services[name]!;
  return toInfo(project.checkout, name, rec, serviceUrl(project, name) ?? null);
}

/** For checkouts whose config is not loaded (`ls --all`), the URL is rebuilt from the record. */
export function infoFromRecord(checkout: CheckoutRecord, name: string, proxyPort: number, https: boolean): ServiceInfo {
  const rec = checkout.services[name]!;
  const url = rec.proxy ? urlFor(qualifiedHost(name, checkout.project, checkout.label), proxyPort, https) : rec.url ? expandUrlTemplate(rec.url, rec.port) : null;
  return toInfo(checkout, name, rec, url);
}

function toInfo(checkout: CheckoutRecord, name: string, rec: ServiceRecord, url: string | null): ServiceInfo {
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
    kind: rec.adHoc ? 'ad-hoc' : 'service',
  };
}
