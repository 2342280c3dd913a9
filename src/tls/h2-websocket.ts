import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type http2 from 'node:http2';
import type { Exchange, ProxyContext, RequestFacts } from '../proxy/exchange.js';
import { requestFacts } from '../proxy/handler.js';
import { forwardFailurePage } from '../proxy/failure-page.js';
import { HOP_HEADER } from '../proxy/hops.js';
import type { Page } from '../proxy/pages.js';
import { runSteps } from '../proxy/pipeline.js';
import { sendPage } from '../proxy/respond.js';
import type { Route } from '../proxy/route-table.js';

/**
 * WebSockets over HTTP/2 (RFC 8441): the browser opens a stream with `:method CONNECT` and `:protocol websocket`
 * and speaks WebSocket frames on it. Dev servers only know the HTTP/1.1 upgrade, so the stream is bridged to one:
 * the request goes through the same pipeline steps as any other, then up as `GET` + `Upgrade: websocket` with a
 * key of our own; the service's 101 becomes the stream's 200 and from then on frames pass through unchanged
 * (RFC 8441 frames are the RFC 6455 frames).
 */
export async function bridgeWebSocket(req: http2.Http2ServerRequest, res: http2.Http2ServerResponse, context: ProxyContext, agent: http.Agent): Promise<void> {
  if (req.headers[':protocol'] !== 'websocket') {
    res.writeHead(501, { 'content-type': 'text/plain' }).end(`portbroker: CONNECT with :protocol "${req.headers[':protocol'] ?? ''}" is not supported; only websocket is\n`);
    return;
  }
  const exchange = new StreamExchange(req);
  let page = await runSteps(exchange, context);
  if (exchange.clientGone) return;
  if (!page && exchange.dashboard) page = { status: 404, title: 'Not found', message: 'the dashboard has no WebSocket endpoint', facts: { error: 'not-found' }, sections: [] };
  if (page) return answer(req, res, page);
  const route = exchange.route!;
  context.activity.report(route);
  const upstream = http.request({
    agent,
    host: 'localhost', // names the agent's pool; its dialer picks the loopback address
    port: route.port,
    method: 'GET',
    path: req.url,
    headers: upgradeHeaders(req, exchange.request.hops),
  });
  upstream.on('upgrade', (upRes, socket, head) => {
    const stream = res.stream;
    if (stream.destroyed) return socket.destroy();
    const headers: http2.OutgoingHttpHeaders = { ':status': 200 };
    for (const name of ['sec-websocket-protocol', 'sec-websocket-extensions']) if (upRes.headers[name] !== undefined) headers[name] = upRes.headers[name];
    stream.respond(headers);
    if (head.length > 0) stream.write(head);
    socket.setNoDelay(true);
    socket.pipe(stream).pipe(socket);
    // Either side going away takes the other with it (a closed stream is a closed WebSocket).
    socket.on('error', () => stream.close(http2ConstantsCancel));
    socket.on('close', () => stream.destroyed || stream.close());
    stream.on('error', () => socket.destroy());
    stream.on('close', () => socket.destroy());
  });
  upstream.on('response', (upRes) => {
    // Not a WebSocket endpoint after all: relay what the service said.
    const headers: http.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(upRes.headers)) if (!H2_FORBIDDEN.has(name)) headers[name] = value;
    res.writeHead(upRes.statusCode ?? 502, headers);
    upRes.pipe(res);
  });
  upstream.on('error', (error) => {
    if (res.headersSent) return res.stream.destroy();
    answer(req, res, forwardFailurePage(context.routes, exchange.host!, route, error));
  });
  res.stream.on('close', () => upstream.destroy());
  upstream.end();
}

const http2ConstantsCancel = 0x8; // NGHTTP2_CANCEL
const H2_FORBIDDEN = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/** The HTTP/1.1 upgrade request for the service: the client's headers, minus HTTP/2's own, plus the handshake. */
function upgradeHeaders(req: http2.Http2ServerRequest, hops: number): http.OutgoingHttpHeaders {
  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) if (!name.startsWith(':')) headers[name] = value;
  const socket = req.socket;
  Object.assign(headers, {
    host: req.authority,
    connection: 'Upgrade',
    upgrade: 'websocket',
    'sec-websocket-key': randomBytes(16).toString('base64'),
    'sec-websocket-version': req.headers['sec-websocket-version'] ?? '13',
    'x-forwarded-for': socket.remoteAddress ?? '',
    'x-forwarded-proto': 'wss',
    'x-forwarded-host': req.authority,
    'x-forwarded-port': String(socket.localPort ?? ''),
    [HOP_HEADER]: String(hops + 1),
  });
  return headers;
}

function answer(req: http2.Http2ServerRequest, res: http2.Http2ServerResponse, page: Page): void {
  sendPage(req as unknown as http.IncomingMessage, res as unknown as http.ServerResponse, page);
}

/** The pipeline's view of a CONNECT stream: the Host is the `:authority`, the client is gone when the stream closes. */
class StreamExchange implements Exchange {
  readonly mayWait = true;
  readonly request: RequestFacts;
  host?: string;
  route?: Route;
  dashboard?: boolean;
  readonly req: http.IncomingMessage;
  private readonly controller = new AbortController();

  constructor(req: http2.Http2ServerRequest) {
    req.headers.host ??= req.authority;
    this.req = req as unknown as http.IncomingMessage;
    this.request = requestFacts(this.req);
    req.stream.once('close', () => this.controller.abort());
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get clientGone(): boolean {
    return this.controller.signal.aborted;
  }
}
