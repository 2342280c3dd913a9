import type net from 'node:net';

/** Node's default read size: a large body arrives in as few reads as it would without this. */
const READ_SIZE = 64 * 1024;

/**
 * A spliced connection's reads from the service, into one buffer that the next read uses again (Node's `onread`
 * option), instead of a new buffer and a trip through the stream machinery for every read. The splice relays
 * each chunk as it arrives, so a chunk almost never outlives its read; one that does — its write to the client
 * was queued, not sent — is left to that write with `keep()`, and the next read gets a new buffer. The buffer's
 * pages are touched only as far as reads fill them, so an idle keep-alive connection holds little.
 */
export class ReusedReads {
  private buffer: Buffer | undefined;
  private kept = false;
  /** Chunks read before the splice took the connection (none are expected: it does so as the connect ends). */
  private early: Buffer[] | undefined;
  private deliver: (chunk: Buffer) => void = (chunk) => (this.early ??= []).push(Buffer.from(chunk));

  /** For `net.connect({ onread })`. */
  readonly onread: net.OnReadOpts = {
    buffer: () => this.next(),
    callback: (bytes, buffer) => {
      this.deliver((buffer as Buffer).subarray(0, bytes)); // the buffer `next` gave
      return true;
    },
  };

  /** Where each chunk goes from now on. */
  attach(deliver: (chunk: Buffer) => void): void {
    this.deliver = deliver;
    const early = this.early;
    this.early = undefined;
    for (const chunk of early ?? []) deliver(chunk);
  }

  /** The chunk just delivered is still in use after its callback: the next read must not overwrite it. */
  keep(): void {
    this.kept = true;
  }

  private next(): Buffer {
    if (!this.buffer || this.kept) {
      this.buffer = Buffer.allocUnsafe(READ_SIZE);
      this.kept = false;
    }
    return this.buffer;
  }
}
