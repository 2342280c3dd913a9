import { randomBytes } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import type { StreamExchange } from './h2-exchange.js';
import { cut, relayResponse, upstreamHeaders } from './h2-forward.js';

/**
 * WebSockets over HTTP/2 (RFC 8441): the browser opens a stream with `:method CONNECT` and `:protocol websocket`
 * and speaks WebSocket frames on it. Dev servers only know the HTTP/1.1 upgrade, so the stream (which went
 * through the same pipeline steps as any other) is bridged to one: up as `GET` + `Upgrade: websocket` with a key
 * of our own; the service's 101 becomes the stream's 200 and from then on frames pass through unchanged
 * (RFC 8441 frames are the RFC 6455 frames). `onFailure`: the service could not be reached.
 */
export function bridgeWebSocket(exchange: StreamExchange, port: number, agent: http.Agent, onFailure: (error: Error) => void): void {
  const { stream } = exchange;
  const upstream = http.request({
    agent,
    host: 'localhost', // names the agent's pool; its dialer picks the loopback address
    port,
    method: 'GET',
    path: exchange.target,
    headers: upgradeHeaders(exchange),
  });
  upstream.on('upgrade', (upRes, socket, head) => {
    if (stream.destroyed) return socket.destroy();
    const headers: http2.OutgoingHttpHeaders = { ':status': 200 };
    for (const name of ['sec-websocket-protocol', 'sec-websocket-extensions']) if (upRes.headers[name] !== undefined) headers[name] = upRes.headers[name];
    stream.respond(headers);
    if (head.length > 0) stream.write(head);
    socket.setNoDelay(true);
    socket.pipe(stream).pipe(socket);
    // Either side going away takes the other with it (a closed stream is a closed WebSocket).
    socket.on('error', () => stream.close(http2.constants.NGHTTP2_CANCEL));
    socket.on('close', () => stream.destroyed || stream.close());
    stream.on('error', () => socket.destroy());
    stream.on('close', () => socket.destroy());
  });
  // Not a WebSocket endpoint after all: relay what the service said, as any answer.
  upstream.on('response', (upRes) => relayResponse(exchange, upRes, onFailure));
  upstream.on('error', (error) => {
    if (stream.headersSent) cut(stream);
    else onFailure(error);
  });
  stream.on('close', () => upstream.destroy());
  upstream.end();
}

/** The HTTP/1.1 upgrade request for the service: the client's headers, minus HTTP/2's own, plus the handshake. */
function upgradeHeaders(exchange: StreamExchange): http.OutgoingHttpHeaders {
  return {
    ...upstreamHeaders(exchange, true),
    connection: 'Upgrade',
    upgrade: 'websocket',
    'sec-websocket-key': randomBytes(16).toString('base64'),
    'sec-websocket-version': exchange.headers['sec-websocket-version'] ?? '13',
  };
}
