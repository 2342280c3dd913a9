import { readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { onTestFinished } from 'vitest';
import { until } from './helpers.js';

/**
 * A client that writes raw bytes and reads raw responses, for what an HTTP library will not send: pipelined
 * requests, duplicate headers, bare line feeds, half-closes, a head dripped byte by byte.
 */

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export class RawClient {
  readonly responses: RawResponse[] = [];
  /** Bytes received that are not (yet) a whole response. */
  pending = '';
  ended = false;
  closed = false;
  /** The methods of the requests written, in order, where a HEAD matters (its response has no body). */
  readonly methods: string[] = [];

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => {
      this.pending += text;
      this.parse();
    });
    socket.on('end', () => (this.ended = true));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => undefined);
  }

  /** Connects to the proxy on 127.0.0.1; the socket is destroyed when the test ends. `allowHalfOpen`: ending our side keeps reading. */
  static async connect(port: number, options: { allowHalfOpen?: boolean } = {}): Promise<RawClient> {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: options.allowHalfOpen ?? false });
    onTestFinished(() => void socket.destroy());
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  /** The same over TLS to the HTTPS port, HTTP/1.1 by ALPN, for `servername` and trusting only `ca`. */
  static async connectTls(port: number, servername: string, ca: string): Promise<RawClient> {
    const socket = tls.connect({ port, host: '127.0.0.1', servername, ca, ALPNProtocols: ['http/1.1'] });
    onTestFinished(() => void socket.destroy());
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  write(text: string | Buffer): void {
    this.socket.write(typeof text === 'string' ? Buffer.from(text, 'latin1') : text);
  }

  /** Waits for `count` responses in all, or for the connection to close first. */
  async responsesOrClose(count: number, what = `${count} responses`, timeoutMs = 15_000): Promise<RawResponse[]> {
    await until(() => this.responses.length >= count || this.closed, what, timeoutMs);
    return this.responses;
  }

  private parse(): void {
    for (;;) {
      const headEnd = this.pending.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const lines = this.pending.slice(0, headEnd).split('\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!)?.[1] ?? 0);
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      let rest = this.pending.slice(headEnd + 4);
      let body: string;
      const head = status >= 200 && this.methods.shift() === 'HEAD';
      if (head || status === 101 || status < 200 || status === 204 || status === 304) body = '';
      else if (headers['transfer-encoding']?.includes('chunked')) {
        const decoded = decodeChunked(rest);
        if (!decoded) return;
        [body, rest] = decoded;
      } else {
        const length = Number(headers['content-length'] ?? -1);
        if (length < 0) return; // read until close: not used by these tests
        if (rest.length < length) return;
        body = rest.slice(0, length);
        rest = rest.slice(length);
      }
      this.pending = rest;
      this.responses.push({ status, headers, body });
      if (status === 101) return; // what follows is another protocol
    }
  }
}

function decodeChunked(text: string): [string, string] | undefined {
  let body = '';
  let at = 0;
  for (;;) {
    const lineEnd = text.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = Number.parseInt(text.slice(at, lineEnd), 16);
    if (size === 0) {
      const end = text.indexOf('\r\n\r\n', lineEnd);
      return end < 0 ? undefined : [body, text.slice(end + 4)];
    }
    if (text.length < lineEnd + 2 + size + 2) return undefined;
    body += text.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
}

/** A request head with CRLF line ends. */
export function request(path: string, host: string | string[] | undefined, extra: string[] = [], method = 'GET'): string {
  const hosts = host === undefined ? [] : Array.isArray(host) ? host : [host];
  return [`${method} ${path} HTTP/1.1`, ...hosts.map((h) => `Host: ${h}`), ...extra, '', ''].join('\r\n');
}

/** How many file descriptors a process has open (its sockets among them). */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

export function proxyLog(home: string): string {
  try {
    return readFileSync(`${home}/proxy.log`, 'utf8');
  } catch {
    return '';
  }
}
