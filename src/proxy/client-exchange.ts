import type { Writable } from 'node:stream';
import type { Route } from './route-table.js';

/**
 * What the exchanges of the general path and of HTTP/2 streams share: they may wait for a starting service, and
 * they learn that the client left from the close of what answers it (a response, an upgrade's socket, a stream).
 * The abort signal is made only when a step asks for it (waiting for a start): an AbortController per request,
 * aborted when every response closes, cost the general path ~7% of its CPU.
 */
export abstract class ClientExchange {
  readonly mayWait = true;
  host?: string;
  route?: Route;
  dashboard?: boolean;
  private controller: AbortController | undefined;
  private gone = false;

  constructor(closing: Writable) {
    closing.once('close', () => {
      // It closes when the answer is done too; only a close before that means the client left.
      this.gone = !closing.writableFinished;
      if (this.gone) this.controller?.abort();
    });
  }

  get clientGone(): boolean {
    return this.gone;
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.gone) this.controller.abort();
    }
    return this.controller.signal;
  }
}
