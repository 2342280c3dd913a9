import { monitorEventLoopDelay } from 'node:perf_hooks';
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
  /**
   * How late the proxy's event loop ran its work over the same interval (99th percentile and worst, in ms): what
   * every forwarded request waited on top of its own time. Null on the first reading.
   */
  eventLoopDelayMs: { p99: number; max: number } | null;
  /** The latest refused requests (foreign Host, malformed name, loop), newest first. */
  refused: Refusal[];
  routes: RouteView[];
}

/** Requests per second is a rate: the view remembers the last count it saw. */
export class ProxyHealth {
  private last: { requests: number; at: number; rate: number | null; delay: ProxyView['eventLoopDelayMs'] } | undefined;
  private readonly delay = monitorEventLoopDelay({ resolution: 10 });

  constructor(private readonly info: () => DashboardInfo) {
    this.delay.enable();
  }

  view(): ProxyView {
    const now = this.info();
    const at = Date.now();
    let rate = this.last?.rate ?? null;
    let delay = this.last?.delay ?? null;
    if (!this.last || at - this.last.at >= 500) {
      rate = this.last ? Math.round(((now.requests - this.last.requests) / (at - this.last.at)) * 1000 * 10) / 10 : null;
      delay = this.last ? { p99: toMs(this.delay.percentile(99)), max: toMs(this.delay.max) } : null;
      this.delay.reset();
      this.last = { requests: now.requests, at, rate, delay };
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
      eventLoopDelayMs: delay,
      refused: [...now.refusals].reverse(),
      routes: routeViews(now.routes, now.port),
    };
  }
}

/** The histogram's nanoseconds, in ms to a tenth. */
function toMs(ns: number): number {
  return Math.round(ns / 1e5) / 10;
}
