/**
 * When to restart a crashed service and when to stop trying. Delays grow exponentially with the crashes inside
 * a sliding window; a service that crashes `limit` times inside the window is given up on, because a
 * crash loop only buries the first, useful error under copies of itself.
 */
export interface CrashPolicyOptions {
  /** Delay before the first restart. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** Crashes inside `windowMs` that make the supervisor give up. */
  limit: number;
  windowMs: number;
}

export const DEFAULT_CRASH_POLICY: CrashPolicyOptions = { initialDelayMs: 250, maxDelayMs: 30_000, limit: 5, windowMs: 60_000 };

export type CrashVerdict = { giveUp: true; crashes: number } | { giveUp: false; crashes: number; delayMs: number };

export class CrashPolicy {
  private crashes: number[] = [];

  constructor(private readonly options: CrashPolicyOptions = DEFAULT_CRASH_POLICY) {}

  /** Records a crash at `now` and says what to do next. */
  crashed(now = Date.now()): CrashVerdict {
    this.crashes = this.crashes.filter((t) => now - t < this.options.windowMs);
    this.crashes.push(now);
    const crashes = this.crashes.length;
    if (crashes >= this.options.limit) return { giveUp: true, crashes };
    const delayMs = Math.min(this.options.maxDelayMs, this.options.initialDelayMs * 2 ** (crashes - 1));
    return { giveUp: false, crashes, delayMs };
  }

  /** A deliberate start (a request for an on-demand service after a give-up) begins with a clean slate. */
  reset(): void {
    this.crashes = [];
  }

  get limit(): number {
    return this.options.limit;
  }

  get windowMs(): number {
    return this.options.windowMs;
  }
}
