import type net from 'node:net';
import type { HeadDeadline } from './connection-entry.js';
import type { ProxyContext } from './exchange.js';
import { HeadExchange } from './head-exchange.js';
import { spliceRoute } from './pipeline.js';
import { findHeadEnd, lineFeedHead, MAX_HEAD_BYTES, parseRequestHead, type RequestHead } from './request-head.js';
import type { Route } from './route-table.js';
import { ReusedReads } from './reused-reads.js';
import { Splice } from './splice.js';
import type { ConnectionStats } from './stats.js';
import type { UpstreamDialer } from './upstream.js';

/**
 * The fast path. An HTTP/1.1 client mostly keeps one origin per connection, so the route is mostly a property
 * of the connection: read the first request head straight off the socket, ask the pipeline's steps about it,
 * and if they send it to a running service, splice the client to a connection of its own to that service — no
 * request or response objects, no header copies, bytes relayed as they come (see splice.ts, which asks the same
 * steps about every later head). Everything that needs a real answer (refusals, pages, waiting for a start,
 * the dashboard) goes to the general path, at a request boundary.
 */

export interface FastPathOptions {
  context: ProxyContext;
  dialer: UpstreamDialer;
  stats: ConnectionStats;
  /** Gives the connection to the general path, with the bytes already read put back in front. */
  handOver: (socket: net.Socket, buffered: Buffer) => void;
}

/** Serves a connection from its first bytes on; `deadline` runs until its first request head is complete. */
export function acceptConnection(client: net.Socket, first: Buffer, deadline: HeadDeadline, options: FastPathOptions): void {
  let buffered = first;
  const onError = () => client.destroy();
  const onData = (chunk: Buffer) => {
    const searchFrom = Math.max(0, buffered.length - 3);
    buffered = Buffer.concat([buffered, chunk]);
    read(searchFrom);
  };
  const read = (searchFrom: number) => {
    const lineFeed = lineFeedHead(buffered);
    const headEnd = lineFeed ? -1 : findHeadEnd(buffered, searchFrom);
    if ((lineFeed === 'incomplete' || (!lineFeed && headEnd < 0)) && buffered.length <= MAX_HEAD_BYTES) {
      client.resume();
      return;
    }
    client.pause();
    client.removeListener('data', onData);
    deadline.stop();
    // Node's parser on the general path reads a bare-LF head once it is rewritten (and answers 431 past the limit).
    if (lineFeed instanceof Buffer) buffered = lineFeed;
    const head = headEnd < 0 ? undefined : parseRequestHead(buffered, headEnd);
    const exchange = head && head.body !== 'reject' ? new HeadExchange(head, buffered, headEnd) : undefined;
    const route = exchange && spliceRoute(exchange, options.context);
    if (!route) {
      client.removeListener('error', onError);
      options.handOver(client, buffered);
      return;
    }
    void connectAndSplice(client, buffered, headEnd, head!, exchange!.host!, route, deadline, options, onError);
  };
  client.on('data', onData);
  client.on('error', onError);
  read(0);
}

async function connectAndSplice(
  client: net.Socket,
  buffered: Buffer,
  headEnd: number,
  head: RequestHead,
  host: string,
  route: Route,
  deadline: HeadDeadline,
  options: FastPathOptions,
  onEarlyError: () => void,
): Promise<void> {
  let upstream: net.Socket;
  const reads = new ReusedReads();
  try {
    upstream = await options.dialer.connect(route.port, reads.onread);
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
  new Splice(client, upstream, { route, host, deadline, reads }, options).start(buffered, headEnd, head);
}
