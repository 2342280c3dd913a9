import type { Step } from '../exchange.js';
import { isServedHost, refusalReason } from '../guard.js';
import { blockedHostPage } from '../pages.js';

/** Refuses every name that is not local (DNS-rebinding defence). */
export const guardRebinding: Step = (exchange, context) => {
  const host = exchange.host!;
  return isServedHost(host, { lan: context.lan }) ? undefined : blockedHostPage(host, refusalReason(host));
};
