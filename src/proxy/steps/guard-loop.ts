import type { Step } from '../exchange.js';
import { MAX_HOPS } from '../hops.js';
import { loopPage } from '../pages.js';

/** Stops a request that keeps coming back through the proxy (a service proxying to its own URL). */
export const guardLoop: Step = (exchange) => {
  const hops = exchange.request.hops;
  return hops >= MAX_HOPS ? loopPage(exchange.host!, hops) : undefined;
};
