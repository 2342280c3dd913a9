import type { Step } from '../exchange.js';
import { parseHost } from '../host.js';
import { blockedHostPage, duplicateHostPage, missingHostPage } from '../pages.js';

/**
 * Which name the request asks for: case, a trailing dot and the port suffix do not matter. Two Host headers
 * are refused (400, as nginx and Caddy answer): a proxy and a service could each believe a different one. A
 * request whose target is an absolute URI names its host there, and Host is ignored (RFC 9112 §3.2.2), as a
 * service's own parser does.
 */
export const readHost: Step = (exchange) => {
  const { hostCount, target } = exchange.request;
  if (hostCount > 1) return duplicateHostPage(exchange.request.hostHeader ?? '');
  const header = target.charCodeAt(0) === SLASH ? exchange.request.hostHeader : (authorityOf(target) ?? exchange.request.hostHeader);
  if (!header) return missingHostPage();
  exchange.host = parseHost(header);
  if (!exchange.host) return { ...blockedHostPage(header, `the Host header "${header}" is not a host name`), status: 400 };
  return undefined;
};

const SLASH = 47;

/** The authority of an absolute-form target (`http://evil.com/x` → `evil.com`); undefined for other forms. */
function authorityOf(target: string): string | undefined {
  const match = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(target);
  if (!match) return undefined;
  const authority = match[1]!;
  return authority.slice(authority.lastIndexOf('@') + 1); // drop credentials
}
