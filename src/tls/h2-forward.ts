import http from 'node:http';
import type http2 from 'node:http2';
import { ForwardedCache, forwardedValues, setForwardedHeaders, type Forwarded } from '../proxy/forwarded.js';
import type { StreamExchange } from './h2-exchange.js';

/**
 * Forwards one HTTP/2 stream to its service over the pooled HTTP/1.1 connections, with no compatibility objects
 * and no proxy library in between: the stream's headers become the request's (`:authority` its Host, X-Forwarded-*
 * and the hop count replaced as on every path), the service's response head becomes the stream's, and the bodies
 * are piped both ways. A page like Vite's asks for ~1,000 modules at once; per request this costs the proxy about
 * a third less CPU than Node's http2 compatibility layer under http-proxy-3 did.
 *
 * `onFailure` runs when the service cannot be reached or fails before answering; a service that fails after it
 * began to answer has its stream reset, so the client sees a broken response, not a short one.
 */
export function forwardStream(exchange: StreamExchange, port: number, agent: http.Agent, onFailure: (error: Error) => void): void {
  const { stream } = exchange;
  let answer: http.IncomingMessage | undefined;
  const upstream = http.request({
    agent,
    host: 'localhost', // names the agent's pool; its dialer picks the loopback address
    port,
    method: exchange.method,
    path: exchange.target,
    headers: upstreamHeaders(exchange),
    setHost: false,
  });
  upstream.on('continue', () => {
    if (!stream.destroyed) stream.additionalHeaders({ ':status': 100 });
  });
  upstream.on('response', (response) => {
    answer = response;
    relayResponse(exchange, response, onFailure);
  });
  // A 101 to a request that asked for no upgrade: Node's client tells only an 'upgrade' listener (with none, the
  // stream would wait forever). HTTP/2 has no 101.
  upstream.on('upgrade', (response, socket) => {
    socket.destroy();
    onFailure(new UncarriedHead(response.statusCode ?? 101));
  });
  upstream.on('error', (error) => {
    if (stream.headersSent) cut(stream);
    else onFailure(error);
  });
  // The client reset the stream, or the session went away: the service's answer has nowhere to go.
  stream.once('close', () => {
    if (!answer?.complete) upstream.destroy();
  });
  if (stream.endAfterHeaders) upstream.end();
  else stream.pipe(upstream);
}

/**
 * The service's answer as the stream's: its head (without what HTTP/2 cannot carry), then its body; a body that
 * breaks off resets the stream. `onFailure`: the head cannot go out as HTTP/2.
 */
export function relayResponse(exchange: StreamExchange, response: http.IncomingMessage, onFailure: (error: Error) => void): void {
  const { stream } = exchange;
  if (stream.destroyed) return void response.destroy();
  const status = response.statusCode ?? 502;
  // A HEAD answer, a 204, 205 or 304, or an empty body: the headers end the stream, no empty DATA frame follows.
  const bodyless = exchange.method === 'HEAD' || status === 204 || status === 205 || status === 304 || response.headers['content-length'] === '0';
  try {
    stream.respond(responseHeaders(response, status), { endStream: bodyless });
  } catch (error) {
    // A head HTTP/2 cannot carry (a status over 599): the client is told what, not that the service is down.
    response.destroy();
    return onFailure(new UncarriedHead(status, error as Error));
  }
  if (bodyless) return void response.resume();
  response.pipe(stream);
  response.once('close', () => {
    if (!response.complete) cut(stream);
  });
}

/**
 * Resets a stream whose answer broke off (RST_STREAM INTERNAL_ERROR). Not `close(code)`: that ends the stream's
 * data first, and a client that got no length would take the short body for the whole of it.
 */
export function cut(stream: http2.ServerHttp2Stream): void {
  stream.destroy(new Error('the service closed the connection in the middle of its answer'));
}

/**
 * Hop-by-hop headers an HTTP/1.1 service may send that have no place in an HTTP/2 response (Node refuses them;
 * `te` it takes only as `trailers`, which means nothing in a response).
 */
export const H2_FORBIDDEN = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings', 'te']);

/**
 * An answer whose head HTTP/2 cannot carry, though HTTP/1.1 can: a status outside 200–599, or a header Node
 * refuses to send that H2_FORBIDDEN does not drop (Node's error names it in quotes).
 */
export class UncarriedHead extends Error {
  readonly status: number | undefined;
  readonly header: string | undefined;

  /** `cause`: Node's error when it refused the head. */
  constructor(status: number, cause?: Error) {
    super(cause?.message ?? `status ${status}`, { cause });
    if (status < 200 || status > 599) this.status = status;
    else this.header = cause && /"([^"]+)"/.exec(cause.message)?.[1];
  }
}

function responseHeaders(response: http.IncomingMessage, status: number): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = { ':status': status };
  const headers = response.headers;
  for (const name in headers) if (!H2_FORBIDDEN.has(name)) out[name] = headers[name];
  return out;
}

/**
 * The request head for the service: the client's headers without HTTP/2's pseudo-headers, a Host, and
 * X-Forwarded-* (of a WebSocket for the bridge's upgrade).
 */
export function upstreamHeaders(exchange: StreamExchange, webSocket = false): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  const headers = exchange.headers;
  for (const name in headers) if (name.charCodeAt(0) !== COLON) out[name] = headers[name];
  out.host = exchange.hostHeader;
  setForwardedHeaders(out as http.IncomingHttpHeaders, forwarded(exchange, webSocket));
  return out;
}

/** Each session's X-Forwarded-* values: its streams share one TLS connection, and nearly always one Host. */
const forwardedBySession = new WeakMap<http2.Http2Session, ForwardedCache>();

function forwarded(exchange: StreamExchange, webSocket: boolean): Forwarded {
  // The session and its socket (the TLS connection) are there while the stream is: the caller checked it is open.
  const session = exchange.stream.session!;
  // A WebSocket says wss: rare enough to be made each time.
  if (webSocket) return forwardedValues(session.socket, exchange.hostHeader, exchange.hops, true);
  let cache = forwardedBySession.get(session);
  if (!cache) forwardedBySession.set(session, (cache = new ForwardedCache(session.socket)));
  return cache.for(exchange.hostHeader, exchange.hops);
}

const COLON = 58;
