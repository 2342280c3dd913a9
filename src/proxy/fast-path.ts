import type net from 'node:net';
import { ActivityReporter } from './activity.js';
import { ChunkedBody } from './chunked-body.js';
import { isServedHost } from './guard.js';
import { HOP_HEADER } from './hops.js';
import { parseHost } from './host.js';
import { forwardFailurePage } from './failure-page.js';
import { findHeadEnd, headerValue, MAX_HEAD_BYTES, parseRequestHead, type RequestHead } from './request-head.js';
import { writePageToSocket } from './respond.js';
import type { RouteSource } from './route-source.js';
import { isForwardable, type Route, type RouteTable } from './route-table.js';
import type { ConnectionStats } from './stats.js';
import type { UpstreamDialer } from './upstream.js';

/**
 * The fast path. An HTTP/1.1 client keeps one origin per connection, so the route is a property of the
 * connection: read the first request head straight off the socket, check its Host, and if it names a running
 * service, splice the client to a connection of its own to that service — no request or response objects, no
 * header copies, bytes relayed as they come. Every later request head on the connection is still read (its
 * Host, and where its body ends), so a client that reuses one connection for several names, a loop coming back
 * through the proxy, or a route that changed hands the connection to the general path at a request boundary.
 * Everything that needs a real answer (refusals, pages, waiting for a start, the dashboard) goes there too.
 */

export interface FastPathOptions {
  routes: RouteSource;
  dialer: UpstreamDialer;
  lan: boolean;
  activity: ActivityReporter;
  stats: ConnectionStats;
  /** Gives the connection to the general path, with the bytes already read put back in front. */
  handOver: (socket: net.Socket, buffered: Buffer) => void;
}

/** A connection that never sends a first request is closed after this long (browsers open spare ones). */
const FIRST_REQUEST_TIMEOUT_MS = 120_000;

export function acceptConnection(client: net.Socket, options: FastPathOptions): void {
  let buffered: Buffer | undefined;
  const onError = () => client.destroy();
  const onTimeout = () => client.destroy();
  const onData = (chunk: Buffer) => {
    const searchFrom = buffered ? Math.max(0, buffered.length - 3) : 0;
    buffered = buffered ? Buffer.concat([buffered, chunk]) : chunk;
    const headEnd = findHeadEnd(buffered, searchFrom);
    if (headEnd < 0 && buffered.length <= MAX_HEAD_BYTES) return;
    client.removeListener('data', onData);
    client.removeListener('timeout', onTimeout);
    client.setTimeout(0);
    client.pause();
    const plan = headEnd < 0 ? undefined : planSplice(buffered, headEnd, options);
    if (!plan) {
      client.removeListener('error', onError);
      options.handOver(client, buffered);
      return;
    }
    void connectAndSplice(client, buffered, headEnd, plan, options, onError);
  };
  client.on('data', onData);
  client.on('error', onError);
  client.setTimeout(FIRST_REQUEST_TIMEOUT_MS);
  client.once('timeout', onTimeout);
}

interface SplicePlan {
  head: RequestHead;
  host: string;
  route: Route;
  table: RouteTable;
}

/** The fast path takes a connection only when its first request is plain and names a service that runs. */
function planSplice(buffered: Buffer, headEnd: number, options: FastPathOptions): SplicePlan | undefined {
  const head = parseRequestHead(buffered, headEnd);
  if (!head || head.body === 'reject' || head.forwarded) return undefined;
  const host = parseHost(head.host);
  if (!host || !isServedHost(host, { lan: options.lan })) return undefined;
  const table = options.routes.current;
  const found = table.lookup(host);
  if (found.kind !== 'route' || !isForwardable(found.route)) return undefined;
  return { head, host, route: found.route, table };
}

async function connectAndSplice(
  client: net.Socket,
  buffered: Buffer,
  headEnd: number,
  plan: SplicePlan,
  options: FastPathOptions,
  onEarlyError: () => void,
): Promise<void> {
  let upstream: net.Socket;
  try {
    upstream = await options.dialer.connect(plan.route.port);
  } catch {
    // Down after all: the general path tries once more and explains with a 502 page.
    client.removeListener('error', onEarlyError);
    if (!client.destroyed) options.handOver(client, buffered);
    return;
  }
  if (client.destroyed) {
    upstream.destroy();
    return;
  }
  client.removeListener('error', onEarlyError);
  options.stats.trackUpstream(upstream);
  options.stats.spliced++;
  new Splice(client, upstream, plan, options).start(buffered, headEnd);
}

/** One spliced connection: client ⇄ its own upstream socket, with each request head checked on the way up. */
class Splice {
  /** Where the client's bytes are: in a head, in a body (by length or chunked), or past an upgrade. */
  private mode: 'head' | 'length' | 'chunked' | 'opaque' = 'head';
  private remaining = 0;
  private chunked: ChunkedBody | undefined;
  /** A head split across reads. */
  private partialHead: Buffer | undefined;
  /** The last request sent up, kept to answer or replay it if the service goes away before answering. */
  private lastHead: Buffer | undefined;
  private lastRequest: RequestHead | undefined;
  private awaitingResponse = false;
  private upstreamFull = false;
  private finished = false;
  private route: Route;
  private table: RouteTable;
  private readonly host: string;
  private readonly hostValue: string | undefined;
  private readonly reportsActivity: boolean;

  constructor(
    private readonly client: net.Socket,
    private readonly upstream: net.Socket,
    plan: SplicePlan,
    private readonly options: FastPathOptions,
  ) {
    this.route = plan.route;
    this.table = plan.table;
    this.host = plan.host;
    this.hostValue = plan.head.host;
    this.reportsActivity = ActivityReporter.wants(plan.route);
    this.lastRequest = plan.head;
  }

  start(buffered: Buffer, headEnd: number): void {
    for (const [socket, event, listener] of this.wiring()) socket.on(event, listener);
    this.sendHead(buffered.subarray(0, headEnd), this.lastRequest!, true);
    if (headEnd < buffered.length) this.onClientData(buffered.subarray(headEnd));
    if (!this.upstreamFull && !this.finished) this.client.resume();
  }

  /** The listeners that relay between the two sockets ('drain' ones come and go with back-pressure). */
  private wiring(): Array<[net.Socket, string, (...args: any[]) => void]> {
    return [
      [this.client, 'data', this.onClientData],
      [this.client, 'end', this.onClientEnd],
      [this.client, 'error', this.onClientError],
      [this.client, 'close', this.onClientClose],
      [this.upstream, 'data', this.onUpstreamData],
      [this.upstream, 'end', this.onUpstreamEnd],
      [this.upstream, 'error', this.onUpstreamError],
      [this.upstream, 'close', this.onUpstreamClose],
    ];
  }

  private readonly onClientData = (chunk: Buffer): void => {
    let at = 0;
    while (at < chunk.length && !this.finished) {
      switch (this.mode) {
        case 'opaque':
          this.write(at === 0 ? chunk : chunk.subarray(at));
          if (this.reportsActivity) this.options.activity.report(this.route);
          at = chunk.length;
          break;
        case 'length': {
          const n = Math.min(this.remaining, chunk.length - at);
          this.write(n === chunk.length ? chunk : chunk.subarray(at, at + n));
          this.remaining -= n;
          at += n;
          if (this.remaining === 0) this.mode = 'head';
          break;
        }
        case 'chunked': {
          const end = this.chunked!.scan(chunk, at);
          if (end === -2) {
            this.mode = 'opaque'; // not chunked encoding after all: the service will say so
            break;
          }
          const stop = end < 0 ? chunk.length : end;
          this.write(chunk.subarray(at, stop));
          at = stop;
          if (end >= 0) this.mode = 'head';
          break;
        }
        case 'head':
          at = this.readHead(chunk, at);
          break;
      }
    }
    if (this.upstreamFull && !this.finished) {
      this.client.pause();
      this.upstream.once('drain', this.onUpstreamDrain);
    }
  };

  /** Reads one request head from `chunk[at…]`; returns where reading goes on. */
  private readHead(chunk: Buffer, at: number): number {
    const bytes = this.partialHead ? Buffer.concat([this.partialHead, chunk.subarray(at)]) : at === 0 ? chunk : chunk.subarray(at);
    const consumedBefore = this.partialHead?.length ?? 0;
    const headEnd = findHeadEnd(bytes, Math.max(0, consumedBefore - 3));
    if (headEnd < 0) {
      if (bytes.length > MAX_HEAD_BYTES) this.handOver(bytes);
      else this.partialHead = bytes;
      return chunk.length;
    }
    this.partialHead = undefined;
    const head = parseRequestHead(bytes, headEnd);
    if (!head || !this.stillOurs(head)) {
      this.handOver(bytes);
      return chunk.length;
    }
    this.sendHead(bytes.subarray(0, headEnd), head, false);
    return at + headEnd - consumedBefore;
  }

  /** A later request may go the same way: same name, plain framing, not a loop, and the route unchanged. */
  private stillOurs(head: RequestHead): boolean {
    if (head.body === 'reject' || head.forwarded) return false;
    if (head.host !== this.hostValue && parseHost(head.host) !== this.host) return false;
    const table = this.options.routes.current;
    if (table !== this.table) {
      const found = table.lookup(this.host);
      if (found.kind !== 'route' || !isForwardable(found.route) || found.route.port !== this.route.port) return false;
      this.table = table;
      this.route = found.route;
    }
    return true;
  }

  private sendHead(head: Buffer, request: RequestHead, first: boolean): void {
    this.options.stats.requests++;
    // On plain HTTP the forwarded headers tell the service nothing it cannot know (loopback peer, same Host,
    // http), so they are added to a connection's first request only: later heads go up untouched.
    this.write(first ? this.withForwardedHeaders(head) : head);
    this.lastHead = head;
    this.lastRequest = request;
    this.awaitingResponse = true;
    if (this.reportsActivity) this.options.activity.report(this.route);
    switch (request.body) {
      case 'length':
        this.mode = 'length';
        this.remaining = request.contentLength;
        break;
      case 'chunked':
        this.mode = 'chunked';
        this.chunked = new ChunkedBody();
        break;
      case 'upgrade':
        this.mode = 'opaque';
        break;
      default:
        this.mode = 'head';
    }
  }

  private withForwardedHeaders(head: Buffer): Buffer {
    const added =
      `X-Forwarded-For: ${this.client.remoteAddress ?? ''}\r\nX-Forwarded-Proto: http\r\n` +
      `X-Forwarded-Host: ${this.hostValue ?? ''}\r\nX-Forwarded-Port: ${this.client.localPort ?? ''}\r\n${HOP_HEADER}: 1\r\n\r\n`;
    return Buffer.concat([head.subarray(0, head.length - 2), Buffer.from(added, 'latin1')]);
  }

  private write(bytes: Buffer): void {
    if (!this.upstream.write(bytes)) this.upstreamFull = true;
  }

  private readonly onUpstreamDrain = (): void => {
    this.upstreamFull = false;
    if (!this.finished) this.client.resume();
  };

  private readonly onUpstreamData = (chunk: Buffer): void => {
    this.awaitingResponse = false;
    if (this.mode === 'opaque' && this.reportsActivity) this.options.activity.report(this.route);
    if (!this.client.write(chunk)) {
      this.upstream.pause();
      this.client.once('drain', this.onClientDrain);
    }
  };

  private readonly onClientDrain = (): void => {
    if (!this.finished) this.upstream.resume();
  };

  private readonly onClientEnd = (): void => {
    this.upstream.end();
  };

  private readonly onUpstreamEnd = (): void => {
    if (this.awaitingResponse) this.upstreamFailed(new Error('the service closed the connection without answering'));
    else this.client.end();
  };

  private readonly onClientError = (): void => {
    this.client.destroy();
  };

  private readonly onClientClose = (): void => {
    this.finished = true;
    this.upstream.destroy();
  };

  private readonly onUpstreamError = (error: Error): void => {
    if (this.awaitingResponse) this.upstreamFailed(error);
    else this.client.destroy();
  };

  private readonly onUpstreamClose = (): void => {
    if (this.finished) return;
    if (this.awaitingResponse) this.upstreamFailed(new Error('the service closed the connection without answering'));
    else if (!this.client.writableEnded) this.client.end();
  };

  /**
   * The service went away with a request unanswered. A repeatable request (GET, HEAD, OPTIONS without a body)
   * is replayed on the general path, which reconnects — this is the usual race with a service closing an idle
   * keep-alive connection — and shows the 502 page if the service is really down. Anything else gets the page.
   */
  private upstreamFailed(error: Error): void {
    if (this.finished) return;
    const request = this.lastRequest!;
    const replayable = this.mode === 'head' && request.body === 'none' && REPLAYABLE.has(request.method);
    if (replayable) {
      this.handOver(this.partialHead ? Buffer.concat([this.lastHead!, this.partialHead]) : this.lastHead!);
      return;
    }
    this.finished = true;
    this.detach();
    this.upstream.destroy();
    const found = this.options.routes.current.lookup(this.host);
    const latest = found.kind === 'route' ? found.route : this.route; // its state as the registry says now
    writePageToSocket(this.client, forwardFailurePage(latest, error), headerValue(this.lastHead!, 'accept'), request.method);
  }

  /** Ends the splice at a request boundary and gives the client to the general path from `bytes` on. */
  private handOver(bytes: Buffer): void {
    this.finished = true;
    this.detach();
    this.upstream.destroy();
    if (this.client.destroyed) return;
    this.client.pause();
    this.options.handOver(this.client, bytes);
  }

  private detach(): void {
    for (const [socket, event, listener] of this.wiring()) socket.removeListener(event, listener);
    this.client.removeListener('drain', this.onClientDrain);
    this.upstream.removeListener('drain', this.onUpstreamDrain);
    // Keep a listener: errors of a socket being torn down must not become uncaught exceptions.
    this.upstream.on('error', () => undefined);
    this.upstreamFull = false;
  }
}

const REPLAYABLE = new Set(['GET', 'HEAD', 'OPTIONS']);
