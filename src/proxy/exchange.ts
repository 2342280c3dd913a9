import type http from 'node:http';
import type { ActivityReporter } from './activity.js';
import type { Page } from './pages.js';
import type { RouteSource } from './route-source.js';
import type { Route } from './route-table.js';

/** What every step of the request pipeline may read: the proxy's long-lived parts. */
export interface ProxyContext {
  routes: RouteSource;
  /** The proxy's port, for links on pages when the request's Host has none. */
  port: number;
  lan: boolean;
  /** How long a request waits for a starting service before a 504. */
  startTimeoutMs: number;
  activity: ActivityReporter;
}

/** One request on its way through the steps; each step fills in what it found out. */
export interface Exchange {
  readonly req: http.IncomingMessage;
  /** Aborts when the client goes away (a waiting request stops waiting). */
  readonly signal: AbortSignal;
  /** The client went away. */
  readonly clientGone: boolean;
  /** The normalised name asked for (`web.acme.localhost`). */
  host?: string;
  /** How many times the request already went through the proxy. */
  hops: number;
  route?: Route;
  /** The request is for portbroker's own dashboard. */
  dashboard?: boolean;
}

/** A step either lets the request go on (undefined) or answers it with a page. */
export type Step = (exchange: Exchange, context: ProxyContext) => Page | undefined | Promise<Page | undefined>;
