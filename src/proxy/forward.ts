import http from 'node:http';
import type net from 'node:net';
import { createProxyServer } from 'http-proxy-3';
import type { ConnectionStats } from './stats.js';
import type { UpstreamDialer } from './upstream.js';

/**
 * The general path: requests that arrive on connections the fast path handed over (and every request when the
 * fast path is off) go through http-proxy-3, the maintained TypeScript fork of http-proxy, over a keep-alive
 * agent, so upstream connections are reused instead of opened per request. It adds X-Forwarded-For/-Proto/
 * -Host/-Port and keeps the original Host; it streams both ways and relays the upstream's own 101 for upgrades.
 */
export class Forwarder {
  private readonly keepAlive: http.Agent;
  /** Upgraded connections leave the pool for good; they get their own sockets. */
  private readonly upgrades: http.Agent;
  private readonly proxy;

  constructor(
    private readonly dialer: UpstreamDialer,
    stats: ConnectionStats,
  ) {
    this.keepAlive = countedAgent(new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 256, scheduling: 'lifo' }), stats);
    this.upgrades = countedAgent(new http.Agent({ keepAlive: false }), stats);
    this.proxy = createProxyServer({ xfwd: true, ws: true });
    // Errors are handled per call; this keeps an unhandled 'error' event from throwing.
    this.proxy.on('error', () => undefined);
  }

  /**
   * Forwards one request. `onFailure` runs when the upstream cannot be reached or fails before answering; a
   * bodiless request refused by a remembered address is retried once on the other one (the service restarted
   * on the other loopback address).
   */
  async web(req: http.IncomingMessage, res: http.ServerResponse, port: number, onFailure: (error: Error) => void): Promise<void> {
    let host: string;
    try {
      host = await this.dialer.addressFor(port);
    } catch (error) {
      onFailure(error as Error);
      return;
    }
    let retried = false;
    const attempt = (target: string) => {
      this.proxy.web(req, res, { target: { host: target, port }, agent: this.keepAlive }, (error) => {
        if (!retried && isRefused(error) && !hasBody(req)) {
          retried = true;
          this.dialer.forget(port);
          this.dialer.addressFor(port).then(attempt, () => onFailure(error));
          return;
        }
        onFailure(error);
      });
    };
    attempt(host);
  }

  async ws(req: http.IncomingMessage, socket: net.Socket, head: Buffer, port: number, onFailure: (error: Error) => void): Promise<void> {
    let host: string;
    try {
      host = await this.dialer.addressFor(port);
    } catch (error) {
      onFailure(error as Error);
      return;
    }
    this.proxy.ws(req, socket, head, { target: { host, port }, agent: this.upgrades }, (error) => {
      if (isRefused(error)) this.dialer.forget(port);
      onFailure(error);
    });
  }

  close(): void {
    this.keepAlive.destroy();
    this.upgrades.destroy();
    this.proxy.close();
  }
}

function isRefused(error: unknown): boolean {
  return (error as NodeJS.ErrnoException)?.code === 'ECONNREFUSED';
}

function hasBody(req: http.IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/** Counts the agent's upstream sockets in the proxy's connection statistics. */
function countedAgent(agent: http.Agent, stats: ConnectionStats): http.Agent {
  const create = agent.createConnection.bind(agent);
  agent.createConnection = ((...args: Parameters<typeof agent.createConnection>) => {
    const socket = create(...args) as net.Socket;
    socket.setNoDelay(true);
    stats.trackUpstream(socket);
    return socket;
  }) as typeof agent.createConnection;
  return agent;
}
