import type http from 'node:http';
import type net from 'node:net';
import { HOP_HEADER } from './hops.js';
import type { RequestHead } from './request-head.js';

/**
 * X-Forwarded-For/-Proto/-Host/-Port, decided in this one place for both paths and every request. Whatever a
 * client sends under these names is dropped and replaced by what the proxy knows — nginx's and Caddy's way
 * when no proxy in front is trusted: the peer's address, the scheme it connected with, the Host it asked for
 * and the port it connected to (the proxy's own, also when Host names none). The hop count goes with them, so
 * the loop guard sees a request that comes back.
 */
export interface Forwarded {
  for: string;
  /** The scheme: ws/wss for a WebSocket handshake, as http-proxy and the HTTP/2 bridge say. */
  proto: 'http' | 'https' | 'ws' | 'wss';
  host: string;
  port: number;
  /** Hops including this one. */
  hops: number;
}

export function forwardedValues(socket: net.Socket, host: string | undefined, hopsBefore: number, webSocket = false): Forwarded {
  const secure = (socket as { encrypted?: boolean }).encrypted === true;
  return {
    for: socket.remoteAddress ?? '',
    proto: webSocket ? (secure ? 'wss' : 'ws') : secure ? 'https' : 'http',
    host: host ?? '',
    port: socket.localPort ?? 0,
    hops: hopsBefore + 1,
  };
}

/** The header lines a raw head gets (each ending in CRLF). */
export function forwardedLines(f: Forwarded): string {
  return `X-Forwarded-For: ${f.for}\r\nX-Forwarded-Proto: ${f.proto}\r\nX-Forwarded-Host: ${f.host}\r\nX-Forwarded-Port: ${f.port}\r\n${HOP_HEADER}: ${f.hops}\r\n`;
}

/**
 * One connection's X-Forwarded-* values, made again only when the Host or the hop count changes, which on one
 * connection they almost never do (an HTTP/2 session's streams, a spliced connection's requests).
 */
export class ForwardedCache {
  private values: Forwarded | undefined;
  private host: string | undefined;
  private hopsBefore = -1;

  constructor(private readonly socket: net.Socket) {}

  for(host: string | undefined, hopsBefore: number): Forwarded {
    if (!this.values || host !== this.host || hopsBefore !== this.hopsBefore) {
      this.values = forwardedValues(this.socket, host, hopsBefore);
      this.host = host;
      this.hopsBefore = hopsBefore;
    }
    return this.values;
  }
}

/** A spliced connection's X-Forwarded-* lines, each followed by the blank line that ends a head. */
export class ForwardedLinesCache {
  private readonly values: ForwardedCache;
  private lines: Buffer | undefined;
  private linesOf: Forwarded | undefined;

  constructor(private readonly socket: net.Socket) {
    this.values = new ForwardedCache(socket);
  }

  /** The lines that end the head of `request` as it goes up. */
  for(request: RequestHead): Buffer {
    // A WebSocket handshake says ws: rare enough to be made each time.
    if (request.body === 'upgrade') return headEnd(forwardedValues(this.socket, request.host, request.hops, true));
    const values = this.values.for(request.host, request.hops);
    if (values !== this.linesOf) {
      this.lines = headEnd(values);
      this.linesOf = values;
    }
    return this.lines!;
  }
}

function headEnd(f: Forwarded): Buffer {
  return Buffer.from(`${forwardedLines(f)}\r\n`, 'latin1');
}

/** A raw request head (`raw[0, end)`) as it goes up: the client's own lines of these names out, `ending` (ours and the blank line) in. */
export function withForwardedLines(raw: Buffer, end: number, head: RequestHead, ending: Buffer): Buffer {
  const blank = end - 2; // the empty line that ends the head
  if (!head.replaced) return Buffer.concat([raw.subarray(0, blank), ending]);
  const parts: Buffer[] = [];
  let from = 0;
  for (let i = 0; i < head.replaced.length; i += 2) {
    parts.push(raw.subarray(from, head.replaced[i]));
    from = head.replaced[i + 1]!;
  }
  parts.push(raw.subarray(from, blank), ending);
  return Buffer.concat(parts);
}

/** The same on the general path, on the headers http-proxy-3 sends up. */
export function setForwardedHeaders(headers: http.IncomingHttpHeaders, f: Forwarded): void {
  headers['x-forwarded-for'] = f.for;
  headers['x-forwarded-proto'] = f.proto;
  headers['x-forwarded-host'] = f.host;
  headers['x-forwarded-port'] = String(f.port);
  headers[HOP_HEADER] = String(f.hops);
}

