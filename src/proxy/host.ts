import net from 'node:net';

/**
 * The name a request asks for, as the router compares it: the `Host` header lower-cased, without its port
 * suffix, its trailing dot or the brackets of an IPv6 literal (`Web.Acme.LOCALHOST.:7355` → `web.acme.localhost`,
 * `[::1]:7355` → `::1`). Undefined when the header is missing or is not a host name at all.
 */
export function parseHost(header: string | undefined): string | undefined {
  if (!header) return undefined;
  // Every request on a connection (and most connections) names the same host: remember the last answer.
  if (header === last.header) return last.host;
  const host = parse(header);
  last = { header, host };
  return host;
}

let last: { header: string | undefined; host: string | undefined } = { header: undefined, host: undefined };

function parse(header: string): string | undefined {
  let host = header.trim().toLowerCase();
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close < 0) return undefined;
    const rest = host.slice(close + 1);
    if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return undefined;
    host = host.slice(1, close);
    return net.isIPv6(host) ? host : undefined;
  }
  const colon = host.indexOf(':');
  if (colon >= 0) {
    if (!/^\d{1,5}$/.test(host.slice(colon + 1))) return undefined;
    host = host.slice(0, colon);
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  return HOST_NAME.test(host) ? host : undefined;
}

/** Letters, digits, hyphens and underscores in dot-separated labels: what a DNS name (or an IPv4 literal) can be. */
const HOST_NAME = /^(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/** The port of a `Host` header, when it has one (`web.localhost:7355` → 7355). */
export function hostPort(header: string | undefined): number | undefined {
  const match = header ? /:(\d{1,5})$/.exec(header.trim()) : null;
  return match ? Number(match[1]) : undefined;
}
