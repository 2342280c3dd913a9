import type { Route } from '../proxy/route-table.js';
import { routeViews, type RouteView } from '../proxy/route-views.js';
import type { Refusal } from '../proxy/stats.js';

/** What the proxy tells its dashboard, read fresh on every request. */
export interface DashboardInfo {
  pid: number;
  port: number;
  addresses: string[];
  startedAt: Date;
  routes: readonly Route[];
  stats: { clients: number; upstreams: number; spliced: number; handedOver: number };
  /** Requests served so far, whichever path took them. */
  requests: number;
  refusals: readonly Refusal[];
}

/** `GET /api/v1/proxy`: the proxy's health. */
export interface ProxyView {
  pid: number;
  port: number;
  addresses: string[];
  startedAt: string;
  uptimeSeconds: number;
  /** Open sockets now, and how connections were served so far. */
  connections: DashboardInfo['stats'];
  requests: number;
  /** Over the last sampling interval (about a second); null on the first reading. */
  requestsPerSecond: number | null;
  /** The latest refused requests (foreign Host, malformed name, loop), newest first. */
  refused: Refusal[];
  routes: RouteView[];
}

/** Requests per second is a rate: the view remembers the last count it saw. */
export class ProxyHealth {
  private last: { requests: number; at: number; rate: number | null } | undefined;

  constructor(private readonly info: () => DashboardInfo) {}

  view(): ProxyView {
    const now = this.info();
    const at = Date.now();
    let rate = this.last?.rate ?? null;
    if (!this.last || at - this.last.at >= 500) {
      rate = this.last ? Math.round(((now.requests - this.last.requests) / (at - this.last.at)) * 1000 * 10) / 10 : null;
      this.last = { requests: now.requests, at, rate };
    }
    return {
      pid: now.pid,
      port: now.port,
      addresses: now.addresses,
      startedAt: now.startedAt.toISOString(),
      uptimeSeconds: Math.round((at - now.startedAt.getTime()) / 1000),
      connections: now.stats,
      requests: now.requests,
      requestsPerSecond: rate,
      refused: [...now.refusals].reverse(),
      routes: routeViews(now.routes, now.port),
    };
  }
}
