import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { plainPortProtocol } from '../proxy/connection-entry.js';
import { isServedHost } from '../proxy/guard.js';
import { parseHost } from '../proxy/host.js';
import { DASHBOARD_HOSTS } from '../proxy/route-table.js';
import { addressIdentity, CertificateStore } from './certificates.js';
import { createStreamHandler, type StreamHandlerOptions } from './h2-streams.js';
import { createRedirectServer } from './redirect.js';

export interface TlsFrontOptions extends StreamHandlerOptions {
  home: string;
  lan: boolean;
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
 * plain HTTP: an HTTP/2 session's streams run the proxy's pipeline steps (h2-streams.ts), and an HTTP/1.1
 * connection goes to the same fast path as a plain one (through http2's own HTTP/1.1 fallback it would take the
 * general path for every request, at a third of the speed).
 */
export async function createTlsFront(options: TlsFrontOptions): Promise<TlsFront> {
  const { lan } = options;
  const certificates = await CertificateStore.open(options.home);
  const secureOptions: tls.TlsOptions = {
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
    // The dashboard (express) speaks HTTP/1.1 only: its names are offered no h2, nor is a client that sends no name
    // (https://127.0.0.1:7355/ is the dashboard too). Every other name gets h2 when asked.
    ALPNCallback: ({ servername, protocols }) => (servername && !DASHBOARD_HOSTS.includes(servername) && protocols.includes('h2') ? 'h2' : 'http/1.1'),
  };
  // Never listens itself: it is handed the TLS connections that chose h2. No 'request' listener: that would
  // make Node build its compatibility request and response objects for every stream.
  const h2 = http2.createServer({ settings: { enableConnectProtocol: true } });
  const onSecureConnection = (socket: tls.TLSSocket) => {
    if (socket.alpnProtocol === 'h2') h2.emit('connection', socket);
    else options.serveHttp1(socket);
  };
  const byAddress = new AddressServers(certificates, (identity) => {
    const secure = tls.createServer({ ...secureOptions, ...identity });
    secure.on('secureConnection', onSecureConnection);
    // A client that gives up on the certificate, or asks for a name we refuse: nothing to log.
    secure.on('tlsClientError', (_error, socket) => socket.destroy());
    return secure;
  });
  await byAddress.serverFor('127.0.0.1');
  h2.on('stream', createStreamHandler(options));
  h2.on('sessionError', () => undefined);
  const redirect = createRedirectServer(lan);

  return {
    accept(socket) {
      const onError = () => socket.destroy();
      socket.on('error', onError);
      const handOver = (server: net.Server) => {
        socket.removeListener('error', onError);
        server.emit('connection', socket);
        // Not before the TLS socket has taken the bytes put back: a synchronous resume loses the ClientHello.
        process.nextTick(() => socket.resume());
      };
      socket.once('data', (chunk: Buffer) => {
        socket.pause();
        socket.unshift(chunk);
        if (plainPortProtocol(chunk[0]!) !== 'tls') return handOver(redirect);
        const secure = byAddress.serverFor(reachedAddress(socket));
        if (secure instanceof tls.Server) return handOver(secure);
        secure.then(handOver, (error) => {
          options.onError(error);
          socket.destroy();
        });
      });
    },
    close() {
      byAddress.close();
      h2.close();
      redirect.close();
    },
  };
}

/**
 * A TLS server per certificate shown to clients that send no name: those that connect by IP address (SNI carries
 * no IP literal). Each is shown a certificate for the address it reached, issued on first use — on 127.0.0.1 and
 * ::1 one that also names localhost; under --lan, one for the machine's LAN address another machine typed — and
 * replaced when it nears its end. Clients that send a name get its own certificate through SNI, on any of them.
 */
class AddressServers {
  private readonly ready = new Map<string, { server: tls.Server; renewAt: number }>();
  private readonly pending = new Map<string, Promise<tls.Server>>();

  constructor(
    private readonly certificates: CertificateStore,
    private readonly create: (identity: { key: string; cert: string }) => tls.Server,
  ) {}

  /** The server for connections that reached `address`: at once when its certificate is at hand. */
  serverFor(address: string): tls.Server | Promise<tls.Server> {
    const identity = addressIdentity(address);
    const ready = this.ready.get(identity);
    if (ready && ready.renewAt > Date.now()) return ready.server;
    let pending = this.pending.get(identity);
    if (!pending) {
      pending = this.certificates
        .forAddress(address)
        .then(({ key, cert, renewAt }) => {
          const known = this.ready.get(identity);
          if (known) known.server.setSecureContext({ key, cert }); // renewed: the same server, a new certificate
          const server = known?.server ?? this.create({ key, cert });
          this.ready.set(identity, { server, renewAt });
          return server;
        })
        .finally(() => this.pending.delete(identity));
      this.pending.set(identity, pending);
    }
    return pending;
  }

  close(): void {
    for (const { server } of this.ready.values()) server.close();
  }
}

/** The address a connection reached, as a certificate names it: without IPv6's v4-mapped prefix or a zone. */
function reachedAddress(socket: net.Socket): string {
  const address = (socket.localAddress ?? '127.0.0.1').replace(/%.*$/, '');
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}
