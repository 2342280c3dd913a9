import type http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';
import { DASHBOARD_HOST } from '../config/names.js';
import type { ProxyContext } from '../proxy/exchange.js';
import { isServedHost } from '../proxy/guard.js';
import type { ProxyHandler } from '../proxy/handler.js';
import { parseHost } from '../proxy/host.js';
import { CertificateStore } from './certificates.js';
import { bridgeWebSocket } from './h2-websocket.js';
import { createRedirectServer } from './redirect.js';

/** The first byte of every TLS connection: a handshake record. */
const TLS_HANDSHAKE = 0x16;

export interface TlsFrontOptions {
  home: string;
  lan: boolean;
  /** The request path every connection shares: the same steps, pages and forwarding as plain HTTP. */
  handler: ProxyHandler;
  context: ProxyContext;
  /** Fresh upstream connections for WebSockets (they leave any pool for good). */
  upgrades: http.Agent;
  onError: (error: unknown) => void;
}

export interface TlsFront {
  /** Takes a new connection on the proxy port: TLS goes to the HTTPS server, plain HTTP gets a redirect. */
  accept(socket: net.Socket): void;
  close(): void;
}

/**
 * HTTPS on the proxy port: HTTP/2 with HTTP/1.1 fallback (ALPN), a certificate per name (SNI) from the state
 * folder's CA, WebSockets over both (HTTP/1.1 upgrade, RFC 8441 on HTTP/2). Requests run the proxy's one
 * request handler; only the transport differs.
 */
export async function createTlsFront(options: TlsFrontOptions): Promise<TlsFront> {
  const { handler, lan } = options;
  const certificates = await CertificateStore.open(options.home);
  const secure = http2.createSecureServer({
    allowHTTP1: true,
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
    settings: { enableConnectProtocol: true },
    // The dashboard (express) speaks HTTP/1.1 only: its name is offered no h2. Every other name gets h2 when asked.
    ALPNCallback: ({ servername, protocols }) => (servername !== DASHBOARD_HOST && protocols.includes('h2') ? 'h2' : 'http/1.1'),
  });
  secure.on('request', (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
    if (req.httpVersionMajor === 2 && parseHost(req.authority) === DASHBOARD_HOST) {
      // An h2 connection opened for another name and reused for the dashboard: 421 sends the browser to a new one.
      res.writeHead(421, { 'content-type': 'text/plain' }).end('portbroker: open the dashboard on a connection of its own\n');
      return;
    }
    // HTTP/2 names the host in `:authority`; the steps (and the service) read `Host`.
    if (req.headers.host === undefined && req.authority) req.headers.host = req.authority;
    handler.request(req as unknown as http.IncomingMessage, res as unknown as http.ServerResponse);
  });
  secure.on('upgrade', handler.upgrade);
  secure.on('connect', (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => {
    bridgeWebSocket(req, res, options.context, options.upgrades).catch((error) => {
      options.onError(error);
      res.stream.destroy();
    });
  });
  // A client that gives up on the certificate, or asks for a name we refuse: nothing to log.
  secure.on('tlsClientError', (_error, socket) => socket.destroy());
  secure.on('sessionError', () => undefined);
  const redirect = createRedirectServer(lan);

  return {
    accept(socket) {
      const onError = () => socket.destroy();
      socket.on('error', onError);
      socket.once('data', (chunk: Buffer) => {
        socket.pause();
        socket.removeListener('error', onError);
        socket.unshift(chunk);
        (chunk[0] === TLS_HANDSHAKE ? secure : redirect).emit('connection', socket);
        // Not before the TLS socket has taken the bytes put back: a synchronous resume loses the ClientHello.
        process.nextTick(() => socket.resume());
      });
    },
    close() {
      secure.close();
      redirect.close();
    },
  };
}
