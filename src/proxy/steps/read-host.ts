import type { Step } from '../exchange.js';
import { parseHost } from '../host.js';
import { blockedHostPage, duplicateHostPage, missingHostPage } from '../pages.js';

/**
 * Which name the request asks for: case, a trailing dot and the port suffix do not matter. Two Host headers
 * are refused (400, as nginx and Caddy answer): a proxy and a service could each believe a different one.
 */
export const readHost: Step = (exchange) => {
  const { hostHeader: header, hostCount } = exchange.request;
  if (hostCount > 1) return duplicateHostPage(header ?? '');
  if (!header) return missingHostPage();
  exchange.host = parseHost(header);
  if (!exchange.host) return { ...blockedHostPage(header, `the Host header "${header}" is not a host name`), status: 400 };
  return undefined;
};
