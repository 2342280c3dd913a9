import type net from 'node:net';

/** Open sockets on both sides of the proxy, for `proxy status`, the dashboard and leak tests. */
export class ConnectionStats {
  clients = 0;
  upstreams = 0;
  /** Connections the fast path spliced, and those it handed to the general path. */
  spliced = 0;
  handedOver = 0;

  trackClient(socket: net.Socket): void {
    this.clients++;
    socket.once('close', () => this.clients--);
  }

  trackUpstream(socket: net.Socket): void {
    this.upstreams++;
    socket.once('close', () => this.upstreams--);
  }

  snapshot() {
    return { clients: this.clients, upstreams: this.upstreams, spliced: this.spliced, handedOver: this.handedOver };
  }
}
