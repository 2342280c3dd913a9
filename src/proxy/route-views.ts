import { urlFor } from '../config/names.js';
import type { Route } from './route-table.js';

/** A route as `proxy status --json` and the dashboard's `/api/routes` show it. */
export interface RouteView {
  host: string;
  url: string;
  kind: 'service' | 'alias';
  project: string | null;
  label: string | null;
  service: string | null;
  port: number;
  /** The service's state; `alias` for an alias (portbroker does not know its state). */
  state: string;
}

export function routeViews(routes: readonly Route[], proxyPort: number, https = false): RouteView[] {
  return routes.map((r) => ({
    host: r.host,
    url: `${urlFor(r.host, proxyPort, https)}/`,
    kind: r.kind,
    project: r.kind === 'service' ? r.project : null,
    label: r.kind === 'service' ? r.label : null,
    service: r.kind === 'service' ? r.service : null,
    port: r.port,
    state: r.kind === 'service' ? r.state : 'alias',
  }));
}
