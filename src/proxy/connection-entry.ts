import type net from 'node:net';
import type { RefusalLog } from './refusals.js';

/** A TLS record starts with its content type; a ClientHello travels in a handshake record (22). */
const TLS_HANDSHAKE = 0x16;

/**
 * What a connection on the proxy port speaks, told by its first byte. The port serves plain HTTP, so a TLS
 * ClientHello (a browser or curl trying https://) is closed at once rather than left waiting for a request head
 * that never comes. HTTPS on the same port branches here.
 */
export function plainPortProtocol(firstByte: number): 'http' | 'tls' {
  return firstByte === TLS_HANDSHAKE ? 'tls' : 'http';
}

/** The time a connection has to send a whole request head, from its first byte on (or from accept for the first). */
export class HeadDeadline {
  private timer: NodeJS.Timeout | undefined;
  private mayAnswer = true;

  constructor(
    private readonly socket: net.Socket,
    private readonly timeoutMs: number,
    private readonly refusals: RefusalLog,
  ) {
    socket.once('close', () => this.stop());
  }

  /** `mayAnswer`: nothing else is being answered on the connection, so a 408 may be written before it closes. */
  start(mayAnswer = true): void {
    this.mayAnswer = mayAnswer;
    this.timer ??= setTimeout(() => this.expire(), this.timeoutMs);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private expire(): void {
    this.timer = undefined;
    this.refusals.record(`no complete request head within ${this.timeoutMs / 1000} s`, undefined, this.socket, 408);
    // As Node's own server does: a 408 when nothing else is being answered on the connection, then close.
    if (this.mayAnswer && this.socket.writable) this.socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    this.socket.destroySoon();
  }
}

export interface EntryOptions {
  headTimeoutMs: number;
  refusals: RefusalLog;
  /** Serves an HTTP/1.x connection from its first bytes on; the deadline runs until its first head is read. */
  serveHttp: (socket: net.Socket, first: Buffer, deadline: HeadDeadline) => void;
}

/**
 * Every HTTP/1.x connection starts here — on the plain port, or on the HTTPS one once its handshake chose
 * HTTP/1.1: the request-head deadline starts, and its first bytes decide who serves it. Both are served alike
 * (the same fast path, the same general path); X-Forwarded-Proto tells them apart.
 */
export function acceptHttp(socket: net.Socket, options: EntryOptions): void {
  const deadline = new HeadDeadline(socket, options.headTimeoutMs, options.refusals);
  deadline.start();
  const onError = () => socket.destroy();
  const onEnd = () => socket.end(); // a connection that closes before saying anything
  socket.on('error', onError);
  socket.once('end', onEnd);
  socket.once('data', (first: Buffer) => {
    socket.pause();
    socket.removeListener('error', onError);
    socket.removeListener('end', onEnd);
    if (!isDecryptedTls(socket) && plainPortProtocol(first[0]!) === 'tls') {
      deadline.stop();
      options.refusals.record('a TLS handshake on the plain HTTP port (use http://, not https://)', undefined, socket, 400);
      socket.destroy();
      return;
    }
    options.serveHttp(socket, first, deadline);
  });
}

function isDecryptedTls(socket: net.Socket): boolean {
  return (socket as { encrypted?: boolean }).encrypted === true;
}
