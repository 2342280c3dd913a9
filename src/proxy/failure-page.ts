import { logTail } from './log-tail.js';
import { unavailablePage, type Page } from './pages.js';
import type { Route } from './route-table.js';
import { connectionFailure } from './upstream.js';

/** The 502 page for a forward that failed: what went wrong with the connection, and the service's last log lines. */
export function forwardFailurePage(route: Route, error: unknown): Page {
  return unavailablePage(route, {
    reason: connectionFailure(error, route.port),
    logLines: route.kind === 'service' ? logTail(route.logFile) : [],
  });
}
