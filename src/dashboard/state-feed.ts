import { eventText, type EventStream } from './sse.js';

/**
 * The live view behind `GET /api/v1/events`: one timer for every open page, running only while one is open.
 * Each tick builds the snapshot once and sends what changed (`services`, `proxy`); a registry change sends
 * at once instead of waiting for the tick, and a page that just opened gets the whole state at once.
 *
 * The snapshot is asynchronous (it reads /proc a slice at a time, see `processTableInSlices`): one tick runs at
 * a time, and a tick asked for meanwhile runs right after it.
 */
export interface Snapshot {
  services: unknown;
  proxy: unknown;
}

/**
 * Live figures (CPU, memory, uptime, requests per second) are read anew every TICK_MS, as `top` does; a change in
 * the registry (a state, a pid, a service come or gone) is sent at once. At one second, building the snapshot and
 * laying out and painting the page's table for figures alone was about half of what an open dashboard cost the
 * proxy and Chromium.
 */
const TICK_MS = 3_000;
const KEYS = ['services', 'proxy'] as const;

export class StateFeed {
  private readonly streams = new Set<EventStream>();
  /** Streams that have not had the whole state yet. */
  private fresh = new Set<EventStream>();
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private sent = { services: '', proxy: '' };
  private soon: NodeJS.Timeout | undefined;
  private running = false;
  private again = false;

  constructor(
    private readonly snapshot: () => Promise<Snapshot>,
    private readonly onRegistryChange?: (listener: () => void) => () => void,
  ) {}

  add(stream: EventStream): void {
    this.streams.add(stream);
    this.fresh.add(stream);
    stream.onClose(() => {
      this.streams.delete(stream);
      this.fresh.delete(stream);
      if (this.streams.size === 0) this.stop();
    });
    if (!this.timer) this.start();
    this.tickSoon(0);
  }

  private start(): void {
    this.sent = { services: '', proxy: '' };
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref();
    // A burst of registry writes (a whole project starting) is one update.
    this.unsubscribe = this.onRegistryChange?.(() => this.tickSoon(50));
  }

  private stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.soon);
    this.timer = undefined;
    this.soon = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private tickSoon(ms: number): void {
    this.soon ??= setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    clearTimeout(this.soon);
    this.soon = undefined;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    const fresh = this.fresh;
    this.fresh = new Set();
    try {
      const current = await this.snapshot();
      const text = { services: JSON.stringify(current.services), proxy: JSON.stringify(current.proxy) };
      const changed = KEYS.filter((key) => text[key] !== this.sent[key]);
      this.sent = text;
      for (const stream of this.streams) {
        // A client too slow to take the last update skips this one; the next carries the whole state anyway.
        const keys = fresh.has(stream) ? KEYS : stream.writableReady() ? changed : [];
        // One write for both: the page takes each write it gets as a task of its own.
        if (keys.length > 0) stream.sendEvents(keys.map((key) => eventText(key, text[key])));
      }
    } catch {
      // The registry or /proc could not be read this time: the next tick tries again (a new page with it).
      for (const stream of fresh) if (this.streams.has(stream)) this.fresh.add(stream);
    } finally {
      this.running = false;
      if (this.again && this.streams.size > 0) {
        this.again = false;
        void this.tick();
      }
    }
  }
}
