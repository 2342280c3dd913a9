import type { Exchange, RequestFacts } from './exchange.js';
import { headerValue, type RequestHead } from './request-head.js';
import type { Route } from './route-table.js';

const NEVER_ABORTED = new AbortController().signal;

/**
 * A request head read by the fast path, as the steps see it. It cannot wait (a step that would wait sends it to
 * the general path), and it is its own RequestFacts: one object per request.
 */
export class HeadExchange implements Exchange, RequestFacts {
  readonly mayWait = false;
  readonly clientGone = false;
  readonly signal: AbortSignal = NEVER_ABORTED;
  host?: string;
  route?: Route;
  dashboard?: boolean;

  constructor(
    private readonly head: RequestHead,
    private readonly raw: Buffer,
    private readonly end: number,
  ) {}

  get request(): RequestFacts {
    return this;
  }

  get method(): string {
    return this.head.method;
  }

  get target(): string {
    return this.head.target;
  }

  get hostCount(): number {
    return this.head.hostCount;
  }

  get hops(): number {
    return this.head.hops;
  }

  get hostHeader(): string | undefined {
    return this.head.host;
  }

  header(name: string): string | undefined {
    return headerValue(this.raw.subarray(0, this.end), name);
  }
}
