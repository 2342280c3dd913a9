import net from 'node:net';

/**
 * DNS-rebinding defence: a page on evil.com can make its own name resolve to 127.0.0.1 and then talk to the
 * proxy with `Host: evil.com`. Only names that cannot belong to anyone else are served: `localhost`,
 * `*.localhost` (RFC 6761 reserves them for loopback) and loopback literals. With `--lan` any IP literal is
 * served too: an IP literal cannot be rebound, and other machines reach the proxy by its address.
 */
export function isServedHost(host: string, options: { lan?: boolean } = {}): boolean {
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const family = net.isIP(host);
  if (family === 0) return false;
  return options.lan === true || isLoopbackLiteral(host, family);
}

function isLoopbackLiteral(host: string, family: number): boolean {
  if (family === 4) return host.startsWith('127.');
  return host === '::1' || host === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(host);
}

/** The one-line reason shown with a 403. */
export function refusalReason(host: string): string {
  return `the host "${host}" is not a local name: portbroker serves only localhost, *.localhost and loopback addresses (a defence against DNS rebinding); open http://<service>.localhost:<port>/ instead`;
}
