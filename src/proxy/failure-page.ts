import { logTail } from './log-tail.js';
import { unavailablePage, type Page } from './pages.js';
import type { RouteSource } from './route-source.js';
import type { Route } from './route-table.js';
import { connectionFailure } from './upstream.js';

/**
 * The 502 page for a forward that failed, on either path: what went wrong with the connection, the service's
 * state as the registry tells it now (it may have crashed meanwhile), and its last log lines.
 */
export function forwardFailurePage(routes: RouteSource, host: string, route: Route, error: unknown): Page {
  const found = routes.current.lookup(host);
  const latest = found.kind === 'route' ? found.route : route;
  return unavailablePage(latest, {
    reason: connectionFailure(error, latest.port),
    logLines: latest.kind === 'service' ? logTail(latest.logFile) : [],
  });
}
