import { qualifiedHost, urlFor } from '../config/names.js';
import { isServing, serviceState, type LiveState } from '../ports/live-state.js';
import type { CheckoutRecord, ServiceRecord } from '../ports/registry.js';
import { serviceUrl, type Project } from '../project/open.js';

/** One reservation as `ls --json` shows it (and `port --json`, `url --json`). */
export interface ServiceInfo {
  project: string;
  /** The checkout's label; empty for a main checkout. */
  label: string;
  service: string;
  port: number;
  url: string;
  /** `orphaned`: its supervisor is gone but its process still serves (see ports/live-state). */
  state: LiveState;
  pid: number | null;
  root: string;
  pinned: boolean;
  /** `alias`: a static route made with `portbroker alias`, not a service of any config. */
  kind: 'service' | 'alias';
}

export function infoFromProject(project: Project, name: string): ServiceInfo {
  const rec = project.checkout.services[name]!;
  return toInfo(project.checkout, name, rec, serviceUrl(project, name));
}

/** For checkouts whose config is not loaded (`ls --all`), the URL is rebuilt from the record. */
export function infoFromRecord(checkout: CheckoutRecord, name: string, proxyPort: number, https: boolean): ServiceInfo {
  const rec = checkout.services[name]!;
  const url = rec.proxy ? urlFor(qualifiedHost(name, checkout.project, checkout.label), proxyPort, https) : `http://127.0.0.1:${rec.port}`;
  return toInfo(checkout, name, rec, url);
}

function toInfo(checkout: CheckoutRecord, name: string, rec: ServiceRecord, url: string): ServiceInfo {
  const state = serviceState(checkout, rec);
  return {
    project: checkout.project,
    label: checkout.label,
    service: name,
    port: rec.port,
    url,
    state,
    pid: isServing(state) ? (rec.pid ?? null) : null,
    root: checkout.root,
    pinned: rec.pinned === true,
    kind: 'service',
  };
}
