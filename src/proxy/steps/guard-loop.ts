import type { Step } from '../exchange.js';
import { HOP_HEADER, MAX_HOPS, hopCount } from '../hops.js';
import { loopPage } from '../pages.js';

/** Stops a request that keeps coming back through the proxy (a service proxying to its own URL). */
export const guardLoop: Step = (exchange) => {
  exchange.hops = hopCount(exchange.req.headers[HOP_HEADER]);
  return exchange.hops >= MAX_HOPS ? loopPage(exchange.host!, exchange.hops) : undefined;
};
