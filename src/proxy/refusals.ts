import type net from 'node:net';
import type { Page } from './pages.js';
import type { ConnectionStats } from './stats.js';

/** Pages that refuse a request rather than report on a service: those go to the proxy log. */
const REFUSAL_STATUSES = new Set([400, 403, 508]);

/** At most this many refusal lines per window; the rest are counted and summed up in one line. */
const LINES_PER_WINDOW = 20;
const WINDOW_MS = 10_000;

/**
 * The proxy log's record of refused requests: one line each — why, which Host, from which peer — so a user can
 * tell why a client got a 400 or a closed connection. Rate-limited: a flood of bad requests must not fill the
 * disk or slow the proxy down; what was left out is counted.
 */
export class RefusalLog {
  private windowStart = 0;
  private written = 0;
  private suppressed = 0;

  constructor(
    private readonly log: (message: string) => void,
    /** Where the dashboard reads the latest refusals. */
    private readonly stats?: ConnectionStats,
  ) {}

  /** Records a page that answered a request, when it refuses it (a bad or foreign Host, a loop). */
  recordPage(page: Page, host: string | undefined, socket: net.Socket | undefined): void {
    if (REFUSAL_STATUSES.has(page.status)) this.record(String(page.facts.error ?? page.title), host, socket, page.status);
  }

  /** `status`: what the client was answered (a connection closed without an answer counts as 400). */
  record(reason: string, host: string | undefined, socket: net.Socket | undefined, status: number): void {
    this.stats?.refused({ host: host ?? '', status, reason });
    const now = Date.now();
    if (now - this.windowStart >= WINDOW_MS) {
      if (this.suppressed > 0) this.log(`refused ${this.suppressed} more requests in the last ${WINDOW_MS / 1000} s (not logged one by one)`);
      this.windowStart = now;
      this.written = 0;
      this.suppressed = 0;
    }
    if (this.written >= LINES_PER_WINDOW) {
      this.suppressed++;
      return;
    }
    this.written++;
    const peer = socket?.remoteAddress ? `${socket.remoteAddress}:${socket.remotePort ?? ''}` : 'unknown';
    this.log(`refused: ${reason}; host ${host === undefined ? '(none)' : JSON.stringify(host.slice(0, 200))}; peer ${peer}`);
  }
}
