import type { EventStream } from './sse.js';

/**
 * The live view behind `GET /api/v1/events`: one timer for every open page, running only while one is open.
 * Each tick builds the snapshot once and sends what changed (`services`, `proxy`); a registry change sends
 * at once instead of waiting for the tick.
 */
export interface Snapshot {
  services: unknown;
  proxy: unknown;
}

const TICK_MS = 1_000;

export class StateFeed {
  private readonly streams = new Set<EventStream>();
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private sent = { services: '', proxy: '' };
  private soon: NodeJS.Timeout | undefined;

  constructor(
    private readonly snapshot: () => Snapshot,
    private readonly onRegistryChange?: (listener: () => void) => () => void,
  ) {}

  add(stream: EventStream): void {
    this.streams.add(stream);
    const current = this.snapshot();
    stream.send('services', current.services);
    stream.send('proxy', current.proxy);
    stream.onClose(() => {
      this.streams.delete(stream);
      if (this.streams.size === 0) this.stop();
    });
    if (!this.timer) this.start();
  }

  private start(): void {
    this.sent = { services: '', proxy: '' };
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
    // A burst of registry writes (a whole project starting) is one update.
    this.unsubscribe = this.onRegistryChange?.(() => (this.soon ??= setTimeout(() => this.tick(), 50)));
  }

  private stop(): void {
    clearInterval(this.timer);
    clearTimeout(this.soon);
    this.timer = undefined;
    this.soon = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
  }

  private tick(): void {
    clearTimeout(this.soon);
    this.soon = undefined;
    const current = this.snapshot();
    for (const key of ['services', 'proxy'] as const) {
      const text = JSON.stringify(current[key]);
      if (text === this.sent[key]) continue;
      this.sent[key] = text;
      // A client too slow to take the last update skips this one; the next carries the whole state anyway.
      for (const stream of this.streams) if (stream.writableReady()) stream.sendRaw(key, text);
    }
  }
}
