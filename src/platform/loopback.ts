import net from 'node:net';

/** Both loopback addresses: a local server may listen on either or both. */
export const LOOPBACK = ['127.0.0.1', '::1'] as const;

/** Whether something accepts a TCP connection on `host:port` now (1 s at most). */
export function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      // destroy() right after connect closes with a FIN, not a reset: servers that log resets (Python's
      // http.server prints a traceback) would greet every probe with an error.
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Whether something accepts connections on the port now, on 127.0.0.1 or ::1. */
export async function acceptsConnections(port: number): Promise<boolean> {
  const results = await Promise.all(LOOPBACK.map((host) => connects(host, port)));
  return results.includes(true);
}

/** Whether a bound address is loopback only (127.0.0.0/8, ::1, or IPv4 loopback mapped into IPv6). */
export function isLoopbackAddress(address: string): boolean {
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}
