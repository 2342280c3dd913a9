import type { Step } from '../exchange.js';
import { parseHost } from '../host.js';
import { blockedHostPage, missingHostPage } from '../pages.js';

/** Which name the request asks for: case, a trailing dot and the port suffix do not matter. */
export const readHost: Step = (exchange) => {
  const header = exchange.req.headers.host;
  if (!header) return missingHostPage();
  exchange.host = parseHost(header);
  if (!exchange.host) return { ...blockedHostPage(header, `the Host header "${header}" is not a host name`), status: 400 };
  return undefined;
};
