import { touchService } from '../control/client.js';
import type { Route, ServiceRoute } from './route-table.js';

/** How often, at most, one service's traffic is reported to its supervisor. */
const REPORT_EVERY_MS = 1_000;

/**
 * Tells the supervisor of an on-demand service that it has traffic, so its `idleStopMs` timer starts over.
 * Throttled per service, fire and forget: reporting must never slow a request down.
 */
export class ActivityReporter {
  private readonly lastReport = new Map<string, number>();

  /** Whether the route's traffic is reported at all (only on-demand services with a live supervisor). */
  static wants(route: Route): route is ServiceRoute & { control: string } {
    return route.kind === 'service' && route.onDemand && route.control !== undefined;
  }

  report(route: Route): void {
    if (!ActivityReporter.wants(route)) return;
    const now = Date.now();
    if (now - (this.lastReport.get(route.host) ?? 0) < REPORT_EVERY_MS) return;
    this.lastReport.set(route.host, now);
    touchService(route.control, route.service);
  }
}
