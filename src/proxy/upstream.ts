import type { LookupAddress } from 'node:dns';
import net from 'node:net';

export type LoopbackAddress = '127.0.0.1' | '::1';

/** Errors that mean "nothing listens at this address", so the other loopback address is worth a try. */
const TRY_OTHER = new Set(['ECONNREFUSED', 'EADDRNOTAVAIL', 'ENETUNREACH', 'EAFNOSUPPORT', 'EHOSTUNREACH']);

/**
 * Connects to a service on whichever loopback address it listens on. Dev servers bind 127.0.0.1, ::1 (Node's
 * `localhost` resolves there first) or both; the address that answered is remembered per port, so only the
 * first connection to a service pays for a wrong guess.
 */
export class UpstreamDialer {
  private readonly answered = new Map<number, LoopbackAddress>();

  /**
   * An open socket to `port` (rejects with the error of the first address when neither answers). `onread`:
   * its reads go there instead of to 'data' events (see reused-reads.ts).
   */
  async connect(port: number, onread?: net.OnReadOpts): Promise<net.Socket> {
    const first = this.answered.get(port) ?? '127.0.0.1';
    const second = first === '127.0.0.1' ? '::1' : '127.0.0.1';
    try {
      return await this.dial(first, port, onread);
    } catch (error) {
      if (!TRY_OTHER.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
      try {
        return await this.dial(second, port, onread);
      } catch {
        throw error;
      }
    }
  }

  /**
   * The same, but the socket is returned at once, connecting: an http.Agent counts a connection (against
   * `maxSockets`) only once it holds the socket, so an asynchronous dial would let every queued request open its
   * own. Node's happy eyeballs (`autoSelectFamily`) tries the two loopback addresses in turn.
   */
  connectNow(port: number): net.Socket {
    const first = this.answered.get(port) ?? '127.0.0.1';
    const order: LoopbackAddress[] = first === '127.0.0.1' ? ['127.0.0.1', '::1'] : ['::1', '127.0.0.1'];
    const socket = net.connect({
      host: 'localhost',
      port,
      noDelay: true,
      autoSelectFamily: true,
      // On loopback an address answers or refuses at once; only a busy event loop makes a connect "slow", and
      // giving up on it then (the default is 250 ms) would fail a request that was about to succeed.
      autoSelectFamilyAttemptTimeout: 10_000,
      lookup: (_host, _options, callback) => (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, order.map((address) => ({ address, family: net.isIP(address) }))),
    });
    socket.once('connect', () => this.answered.set(port, socket.remoteAddress === '::1' ? '::1' : '127.0.0.1'));
    return socket;
  }

  private dial(host: LoopbackAddress, port: number, onread: net.OnReadOpts | undefined): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, noDelay: true, ...(onread && { onread }) });
      const onError = (error: Error) => {
        socket.destroy();
        reject(error);
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.removeListener('error', onError);
        this.answered.set(port, host);
        resolve(socket);
      });
    });
  }
}

/** A one-line reason for a failed connection, for the 502 page. */
export function connectionFailure(reason: unknown, port: number): string {
  // Both loopback addresses tried (happy eyeballs): the first address's error says it.
  const error = reason instanceof AggregateError ? reason.errors[0] : reason;
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ECONNREFUSED') return `nothing answers on port ${port} (127.0.0.1 or ::1)`;
  if (code === 'ECONNRESET') return `the service on port ${port} closed the connection without answering`;
  return `cannot reach port ${port}: ${(error as Error)?.message ?? String(error)}`;
}
