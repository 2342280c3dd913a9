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

  /** An open socket to `port` (rejects with the error of the first address when neither answers). */
  async connect(port: number): Promise<net.Socket> {
    const first = this.answered.get(port) ?? '127.0.0.1';
    const second = first === '127.0.0.1' ? '::1' : '127.0.0.1';
    try {
      return await this.dial(first, port);
    } catch (error) {
      if (!TRY_OTHER.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
      try {
        return await this.dial(second, port);
      } catch {
        throw error;
      }
    }
  }

  private dial(host: LoopbackAddress, port: number): Promise<net.Socket> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, noDelay: true });
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
export function connectionFailure(error: unknown, port: number): string {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ECONNREFUSED') return `nothing answers on port ${port} (127.0.0.1 or ::1)`;
  if (code === 'ECONNRESET') return `the service on port ${port} closed the connection without answering`;
  return `cannot reach port ${port}: ${(error as Error)?.message ?? String(error)}`;
}
