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

/**
 * What the steps read of a request head, whichever path parsed it: the fast path's own parser on a spliced
 * connection, or Node's on the general path. Steps never see more, so both paths decide alike.
 */
export interface RequestFacts {
  readonly method: string;
  /** The request target as sent (`/path?q`, or an absolute URI). */
  readonly target: string;
  /** The first `Host` header's raw value (the exchange's `host` is the name it asks for, normalised). */
  readonly hostHeader: string | undefined;
  /** How many `Host` headers the head carries. */
  readonly hostCount: number;
  /** The hop count it arrives with (0 when it did not come through the proxy). */
  readonly hops: number;
  /** Any other header's value (name in lower case), for a step that needs one. */
  header(name: string): string | undefined;
}

/** One request on its way through the steps; each step fills in what it found out. */
export interface Exchange {
  readonly request: RequestFacts;
  /**
   * Whether the request may wait here (for a service to start). The fast path cannot: a step that would wait
   * answers GENERAL_PATH instead, and the request is handed to the general path, which asks again.
   */
  readonly mayWait: boolean;
  /** Aborts when the client goes away (a waiting request stops waiting). */
  readonly signal: AbortSignal;
  /** The client went away. */
  readonly clientGone: boolean;
  /** The normalised name asked for (`web.acme.localhost`). */
  host?: string;
  route?: Route;
  /** The request is for portbroker's own dashboard. */
  dashboard?: boolean;
}

/** A step's answer on the fast path when only the general path can go on (it would have to wait). */
export const GENERAL_PATH = Symbol('general path');

/** A step either lets the request go on (undefined) or answers it with a page. */
export type Step = (exchange: Exchange, context: ProxyContext) => Page | typeof GENERAL_PATH | undefined | Promise<Page | undefined>;
