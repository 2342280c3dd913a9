import type { Exchange, ProxyContext, Step } from './exchange.js';
import type { Page } from './pages.js';
import { guardLoop } from './steps/guard-loop.js';
import { guardRebinding } from './steps/guard-rebinding.js';
import { lookupRoute } from './steps/lookup-route.js';
import { readHost } from './steps/read-host.js';
import { waitUntilReady } from './steps/wait-until-ready.js';

/**
 * The request path, in order. Each step reads the exchange, adds what it learned, and either passes it on or
 * answers with a page. What comes after (forward to the service, or the dashboard) is the handler's.
 */
export const STEPS: readonly Step[] = [readHost, guardRebinding, guardLoop, lookupRoute, waitUntilReady];

/** Runs the steps; the page of the first step that answers, or undefined when the request may go on. */
export async function runSteps(exchange: Exchange, context: ProxyContext): Promise<Page | undefined> {
  for (const step of STEPS) {
    const result = step(exchange, context);
    // Only waiting for a start is asynchronous: the other steps do not pay for a microtask each.
    const page = result instanceof Promise ? await result : result;
    if (page) return page;
  }
  return undefined;
}
