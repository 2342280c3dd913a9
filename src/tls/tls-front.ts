import type http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';
import tls from 'node:tls';
import { DASHBOARD_HOST } from '../config/names.js';
import { plainPortProtocol } from '../proxy/connection-entry.js';
import type { ProxyContext } from '../proxy/exchange.js';
import { isServedHost } from '../proxy/guard.js';
import type { ProxyHandler } from '../proxy/handler.js';
import { parseHost } from '../proxy/host.js';
import { CertificateStore } from './certificates.js';
import { bridgeWebSocket } from './h2-websocket.js';
import { createRedirectServer } from './redirect.js';

export interface TlsFrontOptions {
  home: string;
  lan: boolean;
  /** The request path of HTTP/2 streams: the same steps, pages and forwarding as plain HTTP. */
  handler: ProxyHandler;
  context: ProxyContext;
  /** Fresh upstream connections for WebSockets (they leave any pool for good). */
  upgrades: http.Agent;
  onError: (error: unknown) => void;
  /**
   * Takes a connection whose handshake chose HTTP/1.1 (or no ALPN at all): from here on it is served as the
   * plain port serves one — the fast path splices it — only its bytes are decrypted first.
   */
  serveHttp1: (socket: tls.TLSSocket) => void;
}

export interface TlsFront {
  /** Takes a new connection on the proxy port: TLS goes to the HTTPS server, plain HTTP gets a redirect. */
  accept(socket: net.Socket): void;
  close(): void;
}

/**
 * HTTPS on the proxy port: HTTP/2 with HTTP/1.1 fallback (ALPN), a certificate per name (SNI) from the state
 * folder's CA, WebSockets over both (HTTP/1.1 upgrade, RFC 8441 on HTTP/2). Only the transport differs from
 * plain HTTP: an HTTP/2 session's streams run the proxy's one request handler, and an HTTP/1.1 connection goes
 * to the same fast path as a plain one (through http2's own HTTP/1.1 fallback it would take the general path
 * for every request, at a third of the speed).
 */
export async function createTlsFront(options: TlsFrontOptions): Promise<TlsFront> {
  const { handler, lan } = options;
  const certificates = await CertificateStore.open(options.home);
  const secure = tls.createServer({
    ...certificates.loopback,
    SNICallback: (servername, done) => {
      // A name the proxy would refuse gets no certificate: the handshake fails, nothing is issued for it.
      const name = parseHost(servername);
      if (!name || !isServedHost(name, { lan })) return done(new Error(`no certificate for "${servername}": not a local name`));
      certificates.contextFor(name).then(
        (context) => done(null, context),
        (error: Error) => {
          options.onError(error);
          done(error);
        },
      );
    },
    // The dashboard (express) speaks HTTP/1.1 only: its name is offered no h2. Every other name gets h2 when asked.
    ALPNCallback: ({ servername, protocols }) => (servername !== DASHBOARD_HOST && protocols.includes('h2') ? 'h2' : 'http/1.1'),
  });
  // Never listens itself: it is handed the TLS connections that chose h2.
  const h2 = http2.createServer({ settings: { enableConnectProtocol: true } });
  secure.on('secureConnection', (socket: tls.TLSSocket) => {
    if (socket.alpnProtocol === 'h2') h2.emit('connection', socket);
    else options.serveHttp1(socket);
  });
  h2.on('request', (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
    if (parseHost(req.authority) === DASHBOARD_HOST) {
      // An h2 connection opened for another name and reused for the dashboard: 421 sends the browser to a new one.
      res.writeHead(421, { 'content-type': 'text/plain' }).end('portbroker: open the dashboard on a connection of its own\n');
      return;
    }
    // HTTP/2 names the host in `:authority`; the steps (and the service) read `Host`.
    if (req.headers.host === undefined && req.authority) req.headers.host = req.authority;
    handler.request(req as unknown as http.IncomingMessage, res as unknown as http.ServerResponse);
  });
  h2.on('connect', (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
    bridgeWebSocket(req, res, options.context, options.upgrades).catch((error) => {
      options.onError(error);
      res.stream.destroy();
    });
  });
  // A client that gives up on the certificate, or asks for a name we refuse: nothing to log.
  secure.on('tlsClientError', (_error, socket) => socket.destroy());
  h2.on('sessionError', () => undefined);
  const redirect = createRedirectServer(lan);

  return {
    accept(socket) {
      const onError = () => socket.destroy();
      socket.on('error', onError);
      socket.once('data', (chunk: Buffer) => {
        socket.pause();
        socket.removeListener('error', onError);
        socket.unshift(chunk);
        (plainPortProtocol(chunk[0]!) === 'tls' ? secure : redirect).emit('connection', socket);
        // Not before the TLS socket has taken the bytes put back: a synchronous resume loses the ClientHello.
        process.nextTick(() => socket.resume());
      });
    },
    close() {
      secure.close();
      h2.close();
      redirect.close();
    },
  };
}
