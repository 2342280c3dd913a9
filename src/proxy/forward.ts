import http from 'node:http';
import type net from 'node:net';
import { createProxyServer } from 'http-proxy-3';
import { closeTogether } from './half-close.js';
import type { ConnectionStats } from './stats.js';
import type { UpstreamDialer } from './upstream.js';

/**
 * The upstream connections of one path: a keep-alive pool for requests, and fresh sockets for upgrades (an
 * upgraded connection leaves any pool for good; the HTTP/2 WebSocket bridge uses these too).
 *
 * `maxSockets` bounds the pooled connections to one service: HTTP/2 clients send hundreds of requests at once,
 * which then queue for a free connection instead of each opening its own (the agent queues; it never fails a
 * request for being busy). HTTP/1.1 clients bring at most six connections per name, so the plain path has no
 * bound. Idle pooled connections close after 4 s: before a Node service's own 5 s keep-alive timeout, so the
 * proxy rarely sends a request on a connection the service is closing, and none lingers after its client left.
 */
export class UpstreamAgents {
  readonly pool: http.Agent;
  readonly upgrades: http.Agent;

  constructor(dialer: UpstreamDialer, stats: ConnectionStats, options: { maxSockets?: number } = {}) {
    const maxSockets = options.maxSockets ?? Infinity;
    this.pool = dialingAgent(new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: 256, scheduling: 'lifo', timeout: POOL_IDLE_MS }), dialer, stats);
    this.upgrades = dialingAgent(new http.Agent({ keepAlive: false }), dialer, stats);
  }

  close(): void {
    this.pool.destroy();
    this.upgrades.destroy();
  }
}

/**
 * The general path: requests that arrive on connections the fast path handed over (and every request when the
 * fast path is off) go through http-proxy-3, the maintained TypeScript fork of http-proxy, over a keep-alive
 * agent, so upstream connections are reused instead of opened per request. It keeps the original Host (the
 * X-Forwarded-* headers are the handler's, from forwarded.ts, not http-proxy-3's, which appends to the
 * client's); it streams both ways and relays the upstream's own 101 for upgrades.
 */
export class Forwarder {
  private readonly proxy;

  constructor(private readonly agents: UpstreamAgents) {
    // toProxy: the request target goes up exactly as the client sent it (otherwise http-proxy-3 normalises it
    // through URL, and `/a/%2e%2e/b` reaches the service as `/b`).
    this.proxy = createProxyServer({ xfwd: false, ws: true, toProxy: true });
    // Errors are handled per call; this keeps an unhandled 'error' event from throwing.
    this.proxy.on('error', () => undefined);
    // A WebSocket whose one side ends: http-proxy-3 passes the end on but never closes a side that stays open.
    this.proxy.on('proxyReqWs', (proxyReq, _req, socket) => {
      proxyReq.once('upgrade', (_res, upstream: net.Socket) => closeTogether(socket as net.Socket, upstream));
    });
    // A service that dies mid-response: http-proxy-3 pipes the response without passing the error on, which
    // would leave the client waiting for the rest forever. Cut the client's response instead.
    this.proxy.on('proxyRes', (proxyRes, _req, res) => {
      proxyRes.once('close', () => {
        if (!proxyRes.complete) res.destroy();
      });
      // Node holds response headers back until the first body bytes. A stream (server-sent events, a long
      // poll) may send its headers long before any data, and the client (EventSource's `open`) waits for them:
      // send them on as soon as http-proxy-3 has copied them (it does so right after this event).
      if (proxyRes.headers['content-length'] === undefined) {
        queueMicrotask(() => {
          if (!res.headersSent && !res.destroyed) res.flushHeaders();
        });
      }
    });
  }

  /** Forwards one request; `onFailure` runs when the upstream cannot be reached or fails. */
  web(req: http.IncomingMessage, res: http.ServerResponse, port: number, onFailure: (error: Error) => void): void {
    this.proxy.web(req, res, { target: target(port), agent: this.agents.pool }, (error) => onFailure(error));
  }

  ws(req: http.IncomingMessage, socket: net.Socket, head: Buffer, port: number, onFailure: (error: Error) => void): void {
    this.proxy.ws(req, socket, head, { target: target(port), agent: this.agents.upgrades }, (error) => onFailure(error));
  }

  /** Closes what it made; the agents it was handed are their maker's to close. */
  close(): void {
    this.proxy.close();
  }
}

const POOL_IDLE_MS = 4_000;

/**
 * The agents' connections come from the dialer, which finds the loopback address the service listens on
 * (127.0.0.1 or ::1). The host in the target only names the pool.
 */
function target(port: number) {
  return { host: 'localhost', port };
}

function dialingAgent(agent: http.Agent, dialer: UpstreamDialer, stats: ConnectionStats): http.Agent {
  agent.createConnection = ((options: net.NetConnectOpts & { port?: number | string }) => {
    const socket = dialer.connectNow(Number(options.port));
    stats.trackUpstream(socket);
    return socket;
  }) as unknown as typeof agent.createConnection;
  return agent;
}
