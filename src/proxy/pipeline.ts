import { GENERAL_PATH, type Exchange, type ProxyContext, type Step } from './exchange.js';
import type { Page } from './pages.js';
import { isForwardable, type Route } from './route-table.js';
import { guardLoop } from './steps/guard-loop.js';
import { guardRebinding } from './steps/guard-rebinding.js';
import { lookupRoute } from './steps/lookup-route.js';
import { readHost } from './steps/read-host.js';
import { waitUntilReady } from './steps/wait-until-ready.js';

/**
 * The request path, in order: the one routing policy. Each step reads the exchange, adds what it learned, and
 * either passes it on or answers with a page. Both paths ask these steps about every request head — the general
 * path through `runSteps`, the fast path through `spliceRoute` for each head it reads on a spliced connection —
 * so a step added here applies to every request, spliced or not. What comes after (forward to the service, or
 * the dashboard) is the handler's.
 */
export const STEPS: readonly Step[] = [readHost, guardRebinding, guardLoop, lookupRoute, waitUntilReady];

/** The general path: the page of the first step that answers, or undefined when the request may go on. */
export async function runSteps(exchange: Exchange, context: ProxyContext): Promise<Page | undefined> {
  for (const step of STEPS) {
    const result = step(exchange, context);
    // Only waiting for a start is asynchronous: the other steps do not pay for a microtask each.
    const page = result instanceof Promise ? await result : result;
    if (page === GENERAL_PATH) throw new Error('a step deferred to the general path on the general path');
    if (page) return page;
  }
  return undefined;
}

/**
 * The fast path's question about a request head: the route to relay it to, when every step lets it through at
 * once and it names a service that runs (or an alias). Undefined when the general path must answer it — a page,
 * a wait for a start, the dashboard.
 */
export function spliceRoute(exchange: Exchange, context: ProxyContext): Route | undefined {
  for (const step of STEPS) {
    const result = step(exchange, context);
    if (result === undefined) continue;
    // A step that has to wait is meant to look at `mayWait` first; should one not, its outcome is not ours.
    if (result instanceof Promise) result.catch(() => undefined);
    return undefined;
  }
  const route = exchange.route;
  return !exchange.dashboard && route && isForwardable(route) ? route : undefined;
}
