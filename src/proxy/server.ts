import http from 'node:http';
import net from 'node:net';
import { PortbrokerError } from '../errors.js';
import { BuildChanged, laterPartOfThisBuild } from '../platform/build-stamp.js';
import { proxyPortHeld } from './port-held.js';
import { ActivityReporter } from './activity.js';
import { acceptHttp, type HeadDeadline } from './connection-entry.js';
import { acceptConnection } from './fast-path.js';
import { Forwarder, UpstreamAgents } from './forward.js';
import { createProxyHandler } from './handler.js';
import { RefusalLog } from './refusals.js';
import { RouteSource } from './route-source.js';
import { ConnectionStats } from './stats.js';
import { UpstreamDialer } from './upstream.js';

export interface ProxyServerOptions {
  home: string;
  port: number;
  /** Listen on every interface instead of 127.0.0.1 and ::1. */
  lan?: boolean;
  /** Where to listen instead (tests: a second loopback address standing in for a LAN one). */
  listenOn?: string[];
  /** Splice connections whose first request names a running service (default true). Off: every request takes the general path. */
  fastPath?: boolean;
  /** Serve TLS (HTTP/2 and HTTP/1.1) with the state folder's CA; plain HTTP on the port is redirected. */
  https?: boolean;
  /** How long a request waits for a starting service (default 30 s). */
  startTimeoutMs?: number;
  /** How long a client has to send a whole request head (default 60 s, nginx's client_header_timeout). */
  headTimeoutMs?: number;
  /** Where the proxy's own messages go (default: stderr). */
  log?: (message: string) => void;
}

export interface ProxyServer {
  port: number;
  /** The addresses it listens on: 127.0.0.1 and ::1, or :: with `lan`. */
  addresses: string[];
  startedAt: Date;
  routes: RouteSource;
  stats: ConnectionStats;
  close(): Promise<void>;
}

/**
 * The proxy: raw `net` listeners whose connections go through the fast path, and behind them an `http.Server`
 * (never listening itself) for connections the fast path hands over. Routes follow the registry live.
 */
export async function startProxyServer(options: ProxyServerOptions): Promise<ProxyServer> {
  const log = options.log ?? ((message: string) => process.stderr.write(`${message}\n`));
  const lan = options.lan === true;
  const routes = new RouteSource({ home: options.home, onWarning: log });
  const stats = new ConnectionStats();
  const dialer = new UpstreamDialer();
  const generalAgents = new UpstreamAgents(dialer, stats);
  const forwarder = new Forwarder(generalAgents);
  const activity = new ActivityReporter();
  const startedAt = new Date();
  const addresses: string[] = [];
  const refusals = new RefusalLog(log, stats);
  const headTimeoutMs = options.headTimeoutMs ?? DEFAULT_HEAD_TIMEOUT_MS;

  const dashboard = createLazyDashboard({
    home: options.home,
    info: () => ({ pid: process.pid, port: options.port, addresses, startedAt, routes: routes.current.routes, stats: stats.snapshot(), requests: stats.requests, refusals: stats.refusals }),
    onRegistryChange: (listener) => routes.subscribe(listener),
  });
  const context = { routes, port: options.port, lan, startTimeoutMs: options.startTimeoutMs ?? 30_000, activity };
  const onError = (error: unknown) => log(`portbroker proxy: ${(error as Error)?.stack ?? error}`);
  const handler = createProxyHandler({ ...context, forwarder, dashboard, refusals, stats, onError });
  // A request head has a total deadline (Node checks it every connectionsCheckingInterval); the body none: a
  // 100 MB upload on a slow disk may take minutes.
  const general = http.createServer(
    { requestTimeout: 0, headersTimeout: headTimeoutMs, connectionsCheckingInterval: Math.min(5_000, Math.max(100, headTimeoutMs / 10)), keepAliveTimeout: 5_000 },
    handler.request,
  );
  general.on('upgrade', handler.upgrade);
  // Node starts checking that deadline when a server listens; this one never listens itself (the net listeners
  // hand it connections), so it is told it does.
  general.emit('listening');
  general.on('clientError', (error: NodeJS.ErrnoException, socket: net.Socket) => refuseMalformed(error, socket, refusals, headTimeoutMs));

  const handOver = (socket: net.Socket, buffered: Buffer) => {
    stats.handedOver++;
    socket.pause();
    if (buffered.length > 0) socket.unshift(buffered);
    general.emit('connection', socket);
    socket.resume();
  };
  const fastPath = options.fastPath !== false;
  const fastPathOptions = { context, dialer, stats, handOver };
  const serveHttp = (client: net.Socket, first: Buffer, deadline: HeadDeadline) => {
    if (fastPath) return acceptConnection(client, first, deadline, fastPathOptions);
    deadline.stop(); // Node's own deadline takes over
    handOver(client, first);
  };
  const entry = { headTimeoutMs, refusals, serveHttp };
  // HTTPS: HTTP/1.1 is served as above once decrypted; HTTP/2 streams take the same pipeline steps behind a TLS
  // front, over an upstream pool bounded per service.
  const h2Agents = options.https ? new UpstreamAgents(dialer, stats, { maxSockets: UPSTREAM_CONNECTIONS_PER_SERVICE }) : undefined;
  const tls = h2Agents
    ? await (await import('../tls/tls-front.js')).createTlsFront({
        home: options.home,
        lan,
        context,
        agents: h2Agents,
        refusals,
        stats,
        onError,
        serveHttp1: (socket) => acceptHttp(socket, entry),
      })
    : undefined;
  const onConnection = (socket: net.Socket) => {
    stats.trackClient(socket);
    if (tls) return tls.accept(socket);
    acceptHttp(socket, entry);
  };

  const listeners: net.Server[] = [];
  const close = async () => {
    routes.close();
    const closed = Promise.all(listeners.map((server) => new Promise((resolve) => server.close(resolve))));
    // A listener reports closed only once its connections are gone: end them (spliced ones take their
    // upstream sockets with them).
    for (const socket of stats.clientSockets) socket.destroy();
    forwarder.close();
    generalAgents.close();
    h2Agents?.close();
    tls?.close();
    await closed;
  };
  try {
    for (const host of options.listenOn ?? (lan ? ['::'] : ['127.0.0.1', '::1'])) {
      const server = net.createServer({ allowHalfOpen: true, noDelay: true }, onConnection);
      const bound = await listen(server, host, options.port, log);
      if (!bound) continue;
      listeners.push(server);
      addresses.push(host);
    }
    if (listeners.length === 0) throw new PortbrokerError(`the proxy could not listen on port ${options.port}: no loopback address is usable`);
  } catch (error) {
    await close();
    throw error;
  }
  return { port: options.port, addresses, startedAt, routes, stats, close };
}

const DEFAULT_HEAD_TIMEOUT_MS = 60_000;

/**
 * What Node's HTTP parser refused (a malformed or oversized head, a head past its deadline): answered as Node
 * answers by default — 400, 431 or 408, then closed — and recorded in the proxy log.
 */
function refuseMalformed(error: NodeJS.ErrnoException, socket: net.Socket, refusals: RefusalLog, headTimeoutMs: number): void {
  const [status, reason] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'request head too large']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, `no complete request head within ${headTimeoutMs / 1000} s`]
        : [400, `malformed request (${error.code ?? error.message})`];
  if (error.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
  refusals.record(reason, undefined, socket, status);
  // Requests before the bad one on a pipelined connection are answered first (Node's default drops them).
  afterResponses(socket, () => {
    if (socket.writable) socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    socket.destroySoon();
  });
}

/** Runs `then` once no response is being written on the socket (Node queues pipelined ones behind it). */
function afterResponses(socket: net.Socket, then: () => void): void {
  const current = (socket as { _httpMessage?: http.ServerResponse | null })._httpMessage;
  if (!current || socket.destroyed) return then();
  const next = () => setImmediate(() => afterResponses(socket, then));
  current.once('finish', next);
  current.once('close', next);
}

/**
 * Connections one service gets from HTTP/2 streams at most: enough for a page's parallel loads, few enough that
 * a thousand streams queue on them instead of opening a thousand sockets.
 */
const UPSTREAM_CONNECTIONS_PER_SERVICE = 32;

/**
 * Listens on one address. A missing IPv6 loopback (IPv6 disabled) is not fatal when 127.0.0.1 works; a port held
 * by someone else is, with the holder named.
 */
function listen(server: net.Server, host: string, port: number, log: (message: string) => void): Promise<boolean> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(proxyPortHeld(port));
      } else if (host !== '127.0.0.1' && (error.code === 'EADDRNOTAVAIL' || error.code === 'EAFNOSUPPORT')) {
        log(`portbroker proxy: not listening on ${host} (${error.code}); IPv6 loopback is unavailable on this machine`);
        resolve(false);
      } else {
        reject(new PortbrokerError(`the proxy cannot listen on ${host} port ${port}: ${error.message}`));
      }
    });
    server.listen({ host, port, ipv6Only: host === '::1', exclusive: true }, () => resolve(true));
  });
}

/** express is loaded only when someone opens the dashboard: the proxy starts faster without it. */
function createLazyDashboard(options: import('../dashboard/app.js').DashboardOptions): http.RequestListener {
  const app = laterPartOfThisBuild(() => import('../dashboard/app.js').then(({ createDashboard }) => createDashboard(options)));
  return (req, res) => {
    app().then(
      (serve) => serve(req, res),
      // Another build's files (503: restarting helps), or a dashboard that failed to load.
      (error) => {
        const status = error instanceof BuildChanged ? 503 : 500;
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ status, error: status === 503 ? 'restart-needed' : 'internal', message: `the dashboard cannot load: ${(error as Error).message}` }));
      },
    );
  };
}
