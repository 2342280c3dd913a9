import type http from 'node:http';
import type net from 'node:net';
import { ClientExchange } from './client-exchange.js';
import type { Exchange, ProxyContext, RequestFacts } from './exchange.js';
import type { Forwarder } from './forward.js';
import { forwardedValues, setForwardedHeaders } from './forwarded.js';
import { HOP_HEADER, hopCount } from './hops.js';
import { forwardFailurePage } from './failure-page.js';
import { dashboardWebSocketPage, type Page } from './pages.js';
import { runSteps } from './pipeline.js';
import type { RefusalLog } from './refusals.js';
import { sendPage, writePageToSocket } from './respond.js';
import type { Route } from './route-table.js';
import type { ConnectionStats } from './stats.js';

export interface ProxyHandlerOptions extends ProxyContext {
  forwarder: Forwarder;
  /** Serves `portbroker.localhost`. */
  dashboard: http.RequestListener;
  /** The proxy log's record of refused requests (and the dashboard's, through the stats). */
  refusals: RefusalLog;
  /** Counts requests, for the dashboard. */
  stats?: ConnectionStats;
  onError?: (error: unknown) => void;
}

export interface ProxyHandler {
  /** An `http.Server` 'request' listener. */
  request: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  /** An `http.Server` 'upgrade' listener (WebSocket). */
  upgrade: (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => void;
}

/**
 * The general path: every request runs the pipeline, then goes to its service or to the dashboard. The fast
 * path hands over every connection it cannot splice, so the pages (403, 404, 502, 508 …) and the waiting room
 * all live here.
 */
export function createProxyHandler(options: ProxyHandlerOptions): ProxyHandler {
  const { forwarder, dashboard } = options;
  const onError = options.onError ?? ((error: unknown) => process.stderr.write(`portbroker proxy: ${(error as Error)?.stack ?? error}\n`));

  async function request(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const exchange = new HttpExchange(req, res);
    const page = await runSteps(exchange, options);
    if (exchange.clientGone || res.destroyed) return; // the client left while it waited
    if (options.stats) options.stats.requests++;
    if (page) {
      recordRefusal(exchange, page);
      return sendPage(req, res, page);
    }
    if (exchange.dashboard) return dashboard(req, res);
    const route = exchange.route!;
    prepareForward(exchange, route);
    forwarder.web(req, res, route.port, (error) => sendPage(req, res, failurePage(exchange, route, error)));
  }

  async function upgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const exchange = new HttpExchange(req, socket);
    let page = await runSteps(exchange, options);
    if (exchange.clientGone || socket.destroyed) return;
    if (!page && exchange.dashboard) page = dashboardWebSocketPage();
    if (page) {
      recordRefusal(exchange, page);
      return writePageToSocket(socket, page, req.headers.accept);
    }
    const route = exchange.route!;
    prepareForward(exchange, route, true);
    forwarder.ws(req, socket, head, route.port, (error) => {
      // After the upstream's 101 the socket carries WebSocket frames: no page can be written any more.
      if (socket.bytesWritten > 0) socket.destroy();
      else writePageToSocket(socket, failurePage(exchange, route, error), req.headers.accept);
    });
  }

  function prepareForward(exchange: HttpExchange, route: Route, webSocket = false): void {
    const { req } = exchange;
    setForwardedHeaders(req.headers, forwardedValues(req.socket, exchange.request.hostHeader, exchange.request.hops, webSocket));
    options.activity.report(route);
  }

  function failurePage(exchange: Exchange, route: Route, error: Error): Page {
    return forwardFailurePage(options.routes, exchange.host!, route, error);
  }

  function recordRefusal(exchange: HttpExchange, page: Page): void {
    options.refusals.recordPage(page, exchange.request.hostHeader, exchange.req.socket);
  }

  const guarded =
    <A extends unknown[]>(fn: (...args: A) => Promise<void>, fail: (...args: A) => void) =>
    (...args: A) => {
      fn(...args).catch((error) => {
        onError(error);
        fail(...args);
      });
    };

  return {
    request: guarded(request, (_req, res) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end('portbroker proxy: internal error (see proxy.log)\n');
      else res.destroy();
    }),
    upgrade: guarded(upgrade, (_req, socket) => socket.destroy()),
  };
}


/** One request's exchange on the general path. */
class HttpExchange extends ClientExchange implements Exchange {
  readonly request: RequestFacts;

  constructor(
    readonly req: http.IncomingMessage,
    closing: http.ServerResponse | net.Socket,
  ) {
    super(closing);
    this.request = requestFacts(req);
  }
}

/** What the steps read of a request Node parsed. Node keeps only the first of two Host headers: count them. */
function requestFacts(req: http.IncomingMessage): RequestFacts {
  let hostCount = 0;
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host') hostCount++;
  return {
    method: req.method ?? 'GET',
    target: req.url ?? '/',
    hostHeader: req.headers.host,
    hostCount,
    hops: hopCount(req.headers[HOP_HEADER]),
    header: (name) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}
