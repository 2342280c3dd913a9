import type net from 'node:net';

export interface Refusal {
  at: string;
  host: string;
  status: number;
  reason: string;
}

const MAX_REFUSALS = 20;

/** Open sockets on both sides of the proxy, for `proxy status`, the dashboard, leak tests and shutdown. */
export class ConnectionStats {
  /** Client connections, whichever path serves them. */
  readonly clientSockets = new Set<net.Socket>();
  upstreams = 0;
  /** Connections the fast path spliced, and those it handed to the general path. */
  spliced = 0;
  handedOver = 0;
  /** Requests forwarded or answered, whichever path served them (the dashboard's requests per second). */
  requests = 0;
  /** The latest requests the proxy refused (a foreign Host, a malformed name, a loop), oldest first. */
  readonly refusals: Refusal[] = [];

  refused(refusal: Omit<Refusal, 'at'>): void {
    this.refusals.push({ at: new Date().toISOString(), ...refusal });
    if (this.refusals.length > MAX_REFUSALS) this.refusals.shift();
  }

  get clients(): number {
    return this.clientSockets.size;
  }

  trackClient(socket: net.Socket): void {
    this.clientSockets.add(socket);
    socket.once('close', () => this.clientSockets.delete(socket));
  }

  trackUpstream(socket: net.Socket): void {
    this.upstreams++;
    socket.once('close', () => this.upstreams--);
  }

  snapshot() {
    return { clients: this.clients, upstreams: this.upstreams, spliced: this.spliced, handedOver: this.handedOver };
  }
}
