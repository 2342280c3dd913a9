import type net from 'node:net';
import { ActivityReporter } from './activity.js';
import { ChunkedBody } from './chunked-body.js';
import type { HeadDeadline } from './connection-entry.js';
import { forwardFailurePage } from './failure-page.js';
import type { FastPathOptions } from './fast-path.js';
import { ForwardedLinesCache, withForwardedLines } from './forwarded.js';
import { closeTogether, type Pair } from './half-close.js';
import { HeadExchange } from './head-exchange.js';
import { spliceRoute } from './pipeline.js';
import { findHeadEnd, headerValue, lineFeedHead, MAX_HEAD_BYTES, parseRequestHead, type RequestHead } from './request-head.js';
import { writePageToSocket } from './respond.js';
import { ResponseFraming, sentRequest } from './response-framing.js';
import type { Route } from './route-table.js';
import type { ReusedReads } from './reused-reads.js';

export interface SplicePlan {
  route: Route;
  /** The name the first request asked for, normalised. */
  host: string;
  deadline: HeadDeadline;
  /** The upstream socket's reads (it was connected with their `onread`). */
  reads: ReusedReads;
}

/**
 * One spliced connection: client ⇄ its own upstream socket. The client's bytes are followed to the end of each
 * request (length, chunked, upgrade) and every head is put to the pipeline's steps; the service's bytes are
 * followed to the end of each response. A head the steps send elsewhere is held until every response before it
 * is complete, then the connection goes to the general path from that head on — so pipelined requests are
 * answered in order whichever services they name. An `Upgrade` waits for its answer: 101 turns the connection
 * into a tunnel, anything else and the next head is read as usual.
 */
export class Splice {
  /** Where the client's bytes are: in a head, in a body, past a 101, or held (not read on for now). */
  private mode: 'head' | 'length' | 'chunked' | 'opaque' | 'held' = 'head';
  private remaining = 0;
  private chunked: ChunkedBody | undefined;
  /** A head split across reads. */
  private partialHead: Buffer | undefined;
  /** Client bytes not read yet: after an Upgrade until its answer, or from a head the general path will take. */
  private held: Buffer | undefined;
  private handingOver = false;
  private clientEnded = false;
  /** The last request head sent up, as the client sent it, to replay it if the service goes away first. */
  private lastHead: Buffer;
  private lastHeadEnd = 0;
  private lastRequest: RequestHead;
  private upstreamFull = false;
  private finished = false;
  private route: Route;
  private host: string;
  private reportsActivity: boolean;
  private readonly framing: ResponseFraming;
  private readonly deadline: HeadDeadline;
  private readonly reads: ReusedReads;
  private readonly pair: Pair;
  private readonly forwarded: ForwardedLinesCache;

  constructor(
    private readonly client: net.Socket,
    private readonly upstream: net.Socket,
    plan: SplicePlan,
    private readonly options: FastPathOptions,
  ) {
    this.route = plan.route;
    this.host = plan.host;
    this.deadline = plan.deadline;
    this.reads = plan.reads;
    this.forwarded = new ForwardedLinesCache(client);
    this.reportsActivity = ActivityReporter.wants(plan.route);
    this.framing = new ResponseFraming({ onResponseEnd: this.onResponseEnd, onSwitch: this.onSwitch });
    this.pair = closeTogether(client, upstream, false);
    this.lastHead = EMPTY;
    this.lastRequest = undefined as unknown as RequestHead; // set by the first sendHead
  }

  start(buffered: Buffer, headEnd: number, head: RequestHead): void {
    for (const [socket, event, listener] of this.wiring()) socket.on(event, listener);
    this.sendHead(buffered, headEnd, head);
    this.reads.attach(this.onUpstreamData);
    if (headEnd < buffered.length) this.relay(buffered, headEnd);
    this.resumeClient();
  }

  /** The listeners that relay between the two sockets ('drain' ones come and go with back-pressure; the service's bytes come through `reads`). */
  private wiring(): Array<[net.Socket, string, (...args: any[]) => void]> {
    return [
      [this.client, 'data', this.onClientData],
      [this.client, 'end', this.onClientEnd],
      [this.client, 'error', this.onClientError],
      [this.client, 'close', this.onClientClose],
      [this.upstream, 'end', this.onUpstreamEnd],
      [this.upstream, 'error', this.onUpstreamError],
      [this.upstream, 'close', this.onUpstreamClose],
    ];
  }

  private readonly onClientData = (chunk: Buffer): void => {
    if (this.mode === 'held') this.hold(chunk, 0);
    else this.relay(chunk, 0);
  };

  /** Relays client bytes from `chunk[at…]`, reading each head on the way. */
  private relay(chunk: Buffer, at: number): void {
    while (at < chunk.length && !this.finished) {
      switch (this.mode) {
        case 'held':
          this.hold(chunk, at);
          return;
        case 'opaque':
          this.write(at === 0 ? chunk : chunk.subarray(at));
          if (this.reportsActivity) this.options.context.activity.report(this.route);
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
            // Not chunked encoding after all: nothing after it can be told apart. The service answers what it
            // got; then the connection closes.
            this.clientEnded = true;
            this.mode = 'held';
            this.hold(chunk, at);
            this.afterResponse();
            return;
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
  }

  /** Reads one request head from `chunk[at…]`; returns where reading goes on. */
  private readHead(chunk: Buffer, at: number): number {
    const before = this.partialHead?.length ?? 0;
    const bytes = this.partialHead ? Buffer.concat([this.partialHead, chunk.subarray(at)]) : at === 0 ? chunk : chunk.subarray(at);
    const lineFeed = lineFeedHead(bytes);
    const headEnd = lineFeed ? -1 : findHeadEnd(bytes, Math.max(0, before - 3));
    if (headEnd < 0) {
      if (lineFeed instanceof Buffer || bytes.length > MAX_HEAD_BYTES) {
        // Node's parser on the general path answers these: the bare-LF head rewritten, or 431.
        this.partialHead = undefined;
        this.handOverAfterResponses(lineFeed instanceof Buffer ? lineFeed : bytes);
      } else {
        this.partialHead = bytes;
        this.deadline.start(this.framing.pending === 0);
      }
      return chunk.length;
    }
    this.partialHead = undefined;
    this.deadline.stop();
    const head = parseRequestHead(bytes, headEnd);
    const exchange = head && head.body !== 'reject' ? new HeadExchange(head, bytes, headEnd) : undefined;
    const route = exchange && spliceRoute(exchange, this.options.context);
    // Another service, a page, a wait, odd framing: the general path takes it from this head on.
    if (!route || route.port !== this.route.port) {
      this.handOverAfterResponses(bytes);
      return chunk.length;
    }
    if (route !== this.route) {
      this.route = route;
      this.reportsActivity = ActivityReporter.wants(route);
    }
    this.host = exchange.host!;
    this.sendHead(bytes, headEnd, head!);
    return at + headEnd - before;
  }

  private sendHead(raw: Buffer, end: number, request: RequestHead): void {
    this.options.stats.requests++;
    this.write(withForwardedLines(raw, end, request, this.forwarded.for(request)));
    this.lastHead = raw; // up to lastHeadEnd: cut only if it is ever needed
    this.lastHeadEnd = end;
    this.lastRequest = request;
    this.framing.expect(sentRequest(request.method, request.body === 'upgrade'));
    if (this.reportsActivity) this.options.context.activity.report(this.route);
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
        this.mode = 'held'; // until the service says whether it switches protocols
        this.client.pause();
        break;
      default:
        this.mode = 'head';
    }
  }

  private hold(chunk: Buffer, at: number): void {
    const rest = at === 0 ? chunk : chunk.subarray(at);
    this.held = this.held ? Buffer.concat([this.held, rest]) : rest;
    this.client.pause();
  }

  /** The general path takes the connection from `bytes` (a head) on, once every response before it is complete. */
  private handOverAfterResponses(bytes: Buffer): void {
    this.deadline.stop();
    this.mode = 'held';
    this.handingOver = true;
    this.hold(bytes, 0);
    this.afterResponse();
  }

  private write(bytes: Buffer): void {
    if (!this.upstream.write(bytes)) this.upstreamFull = true;
  }

  private resumeClient(): void {
    if (!this.finished && !this.upstreamFull && this.mode !== 'held' && !this.clientEnded) this.client.resume();
  }

  private readonly onUpstreamDrain = (): void => {
    this.upstreamFull = false;
    this.resumeClient();
  };

  /** The service's bytes, in the read buffer: relayed at once, and that buffer kept only if the write was queued. */
  private readonly onUpstreamData = (chunk: Buffer): void => {
    const flowing = this.client.write(chunk);
    if (this.client.writableLength > 0) this.reads.keep();
    if (!flowing) {
      this.upstream.pause();
      this.client.once('drain', this.onClientDrain);
    }
    if (this.mode === 'opaque') {
      if (this.reportsActivity) this.options.context.activity.report(this.route);
    } else if (!this.finished) this.framing.scan(chunk);
  };

  private readonly onClientDrain = (): void => {
    if (!this.upstream.destroyed) this.upstream.resume();
  };

  /** A final response ended. */
  private readonly onResponseEnd = (closes: boolean): void => {
    if (this.finished) return;
    // The service closes after this response (it said so, or the body ran until it closed): the client's
    // connection ends with it, as the relayed `Connection: close` told the client.
    if (closes) return this.endBoth();
    this.afterResponse();
  };

  /** The service answered an Upgrade with 101: from now on the connection is a tunnel both ways. */
  private readonly onSwitch = (): void => {
    if (this.finished) return;
    this.mode = 'opaque';
    const held = this.held;
    this.held = undefined;
    if (held) this.write(held);
    if (this.clientEnded) {
      this.upstream.end();
      this.pair.finish();
    }
    this.resumeClient();
  };

  /** Between responses: close, hand over, or read on what was held, as the state of the connection says. */
  private afterResponse(): void {
    if (this.finished || this.framing.pending > 0) return;
    if (this.clientEnded) return this.endBoth();
    if (this.mode !== 'held') return;
    if (this.handingOver) return this.handOver(this.held ?? EMPTY);
    // An Upgrade answered without 101: what the client sent after it is the next request.
    this.mode = 'head';
    const held = this.held;
    this.held = undefined;
    if (held) this.relay(held, 0);
    this.resumeClient();
  }

  private readonly onClientEnd = (): void => {
    this.clientEnded = true;
    if (this.finished) return;
    // As nginx does, a client that ends its side is done: the service gets the end too, and an answer already
    // on its way has the grace to arrive.
    this.upstream.end();
    this.pair.finish();
    this.afterResponse();
  };

  private readonly onUpstreamEnd = (): void => {
    this.framing.closed(); // a response that ran until the service closed is complete now
    if (this.finished) return;
    if (this.mode === 'opaque') {
      this.client.end();
      this.pair.finish();
      return;
    }
    if (this.framing.pending > 0) this.upstreamFailed(new Error('the service closed the connection without answering'));
    else this.endBoth();
  };

  private readonly onClientError = (): void => {
    this.client.destroy();
  };

  private readonly onClientClose = (): void => {
    this.finished = true;
    this.deadline.stop();
    this.upstream.destroy();
  };

  private readonly onUpstreamError = (error: Error): void => {
    if (this.framing.pending > 0 && !this.finished) this.upstreamFailed(error);
    else this.client.destroy();
  };

  private readonly onUpstreamClose = (): void => {
    if (this.finished) return;
    if (this.framing.pending > 0 && this.mode !== 'opaque') this.upstreamFailed(new Error('the service closed the connection without answering'));
    else this.endBoth();
  };

  /** Both sides are done: end them, and destroy whatever has not closed after the grace. */
  private endBoth(): void {
    this.finished = true;
    this.deadline.stop();
    if (!this.client.writableEnded) this.client.end();
    if (!this.upstream.writableEnded) this.upstream.end();
    this.pair.finish();
  }

  /**
   * The service went away with a request unanswered. A repeatable request (GET, HEAD, OPTIONS without a body)
   * with nothing of its answer sent yet is replayed on the general path, which reconnects — the usual race with
   * a service closing an idle keep-alive connection — and shows the 502 page if the service is really down. A
   * response cut short is cut short for the client too; anything else gets the 502 page.
   */
  private upstreamFailed(error: Error): void {
    if (this.finished) return;
    if (this.framing.midResponse) {
      this.finished = true;
      this.client.destroy();
      return;
    }
    const request = this.lastRequest;
    const replayable = this.framing.pending === 1 && request.body === 'none' && REPLAYABLE.has(request.method) && !this.clientEnded;
    if (replayable) {
      const rest = this.partialHead ?? this.held;
      const head = this.lastHead.subarray(0, this.lastHeadEnd);
      this.handOver(rest ? Buffer.concat([head, rest]) : head);
      return;
    }
    this.finished = true;
    this.detach();
    this.upstream.destroy();
    const page = forwardFailurePage(this.options.context.routes, this.host, this.route, error);
    writePageToSocket(this.client, page, headerValue(this.lastHead.subarray(0, this.lastHeadEnd), 'accept'), request.method);
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
    this.pair.dispose();
    this.deadline.stop();
    // Keep a listener: errors of a socket being torn down must not become uncaught exceptions.
    this.upstream.on('error', () => undefined);
    this.upstreamFull = false;
  }
}

const EMPTY = Buffer.alloc(0);
const REPLAYABLE = new Set(['GET', 'HEAD', 'OPTIONS']);
