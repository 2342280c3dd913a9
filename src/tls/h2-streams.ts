import type http2 from 'node:http2';
import type { ProxyContext } from '../proxy/exchange.js';
import { forwardFailurePage } from '../proxy/failure-page.js';
import type { UpstreamAgents } from '../proxy/forward.js';
import { dashboardWebSocketPage, internalErrorPage, misdirectedPage, uncarriedAnswerPage, unsupportedConnectPage } from '../proxy/pages.js';
import { runSteps } from '../proxy/pipeline.js';
import type { RefusalLog } from '../proxy/refusals.js';
import { sendPageOnStream } from '../proxy/respond.js';
import type { ConnectionStats } from '../proxy/stats.js';
import { StreamExchange } from './h2-exchange.js';
import { forwardStream, UncarriedHead } from './h2-forward.js';
import { bridgeWebSocket } from './h2-websocket.js';

export interface StreamHandlerOptions {
  context: ProxyContext;
  /** Pooled connections for requests (bounded per service), fresh ones for WebSockets. */
  agents: UpstreamAgents;
  refusals: RefusalLog;
  stats: ConnectionStats;
  onError: (error: unknown) => void;
}

/** An `http2.Http2Server` 'stream' listener. */
type StreamHandler = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, flags: number, rawHeaders: string[]) => void;

/**
 * The request path of HTTP/2 streams: the same pipeline steps and pages as every other request, then the stream
 * goes to its service (h2-forward.ts) or, a WebSocket, is bridged to an HTTP/1.1 upgrade (h2-websocket.ts). The
 * streams are served as they come, without Node's HTTP/1-style compatibility objects: a page of 1,000 modules is
 * 1,000 streams, and per stream those objects cost more than the forwarding itself.
 */
export function createStreamHandler(options: StreamHandlerOptions): StreamHandler {
  const { context, agents, refusals, stats } = options;

  async function serve(exchange: StreamExchange): Promise<void> {
    const { stream, headers } = exchange;
    const method = exchange.method;
    const connect = method === 'CONNECT';
    let page = connect && headers[':protocol'] !== 'websocket' ? unsupportedConnectPage(String(headers[':protocol'] ?? '')) : await runSteps(exchange, context);
    if (exchange.clientGone || stream.destroyed) return;
    if (!connect) stats.requests++;
    // The dashboard (express) has no HTTP/2: a connection opened for another name and reused for it gets 421,
    // which sends the browser to a connection of its own (its names are offered HTTP/1.1 only).
    if (!page && exchange.dashboard) page = connect ? dashboardWebSocketPage() : misdirectedPage();
    const socket = stream.session?.socket;
    if (page) {
      refusals.recordPage(page, exchange.hostHeader, socket);
      return sendPageOnStream(stream, page, headers.accept, method);
    }
    const route = exchange.route!;
    context.activity.report(route);
    const onFailure = (error: Error) => {
      const failure = error instanceof UncarriedHead ? uncarriedAnswerPage(route, error) : forwardFailurePage(context.routes, exchange.host!, route, error);
      sendPageOnStream(stream, failure, headers.accept, method);
    };
    if (connect) bridgeWebSocket(exchange, route.port, agents.upgrades, onFailure);
    else forwardStream(exchange, route.port, agents.pool, onFailure);
  }

  return (stream, headers, _flags, rawHeaders) => {
    // A stream the client resets: its close handlers clean up; an unhandled 'error' would end the daemon.
    stream.on('error', () => undefined);
    serve(new StreamExchange(stream, headers, rawHeaders)).catch((error) => {
      options.onError(error);
      sendPageOnStream(stream, internalErrorPage(), headers.accept, headers[':method']);
    });
  };
}
