import type http2 from 'node:http2';
import { ClientExchange } from '../proxy/client-exchange.js';
import type { Exchange, RequestFacts } from '../proxy/exchange.js';
import { HOP_HEADER, hopCount } from '../proxy/hops.js';

/**
 * An HTTP/2 stream as the pipeline's steps see it, read straight from the stream's headers (no compatibility
 * request object): HTTP/2 names the host in `:authority`, which stands in for a missing `Host`. It may wait for a
 * starting service, as on the general path.
 */
export class StreamExchange extends ClientExchange implements Exchange, RequestFacts {
  // Read by the steps and again for the request that goes up: worked out once.
  readonly hostHeader: string | undefined;
  readonly hops: number;

  constructor(
    readonly stream: http2.ServerHttp2Stream,
    readonly headers: http2.IncomingHttpHeaders,
    private readonly rawHeaders: string[],
  ) {
    super(stream);
    this.hostHeader = headers.host ?? headers[':authority'];
    this.hops = hopCount(headers[HOP_HEADER]);
  }

  get request(): RequestFacts {
    return this;
  }

  get method(): string {
    return this.headers[':method'] ?? 'GET';
  }

  get target(): string {
    return this.headers[':path'] ?? '/';
  }

  /** `Host` headers sent besides `:authority` (Node keeps only the first of two: count them). */
  get hostCount(): number {
    let count = 0;
    const raw = this.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) if (raw[i] === 'host') count++;
    return count;
  }

  header(name: string): string | undefined {
    const value = this.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }
}
