import { ChunkedBody } from './chunked-body.js';
import { CR, HEAD_END, lengthValue, LF, listEndsWith, listHas, nameIs } from './head-bytes.js';

/**
 * Follows the responses coming down a spliced connection, to know where each one ends: the fast path may hand a
 * connection to the general path only between responses, must know whether an `Upgrade` request was answered
 * with 101 (then the connection carries another protocol) or not (then the next request head is read as usual),
 * and must close the client when the service closes after a response. The bytes are relayed untouched; only
 * response heads, lengths and chunk sizes are read (RFC 9112 §6.3).
 */

/** What the fast path needs to remember of a request it sent up, to read its response. */
export interface SentRequest {
  /** A HEAD request: its response has no body whatever its headers say. */
  head: boolean;
  upgrade: boolean;
}

/** What the response reader needs to know of a request (shared objects: no allocation per request). */
export function sentRequest(method: string, upgrade: boolean): SentRequest {
  return upgrade ? SENT_UPGRADE : method === 'HEAD' ? SENT_HEAD : SENT_PLAIN;
}

const SENT_PLAIN: SentRequest = { head: false, upgrade: false };
const SENT_HEAD: SentRequest = { head: true, upgrade: false };
const SENT_UPGRADE: SentRequest = { head: false, upgrade: true };

export interface FramingEvents {
  /** A final response ended; `closes`: the service closes the connection after it. */
  onResponseEnd(closes: boolean): void;
  /** The service answered 101: from `offset` of this chunk on, the connection carries another protocol. */
  onSwitch(): void;
}

const MAX_RESPONSE_HEAD = 64 * 1024;
const HTTP_1 = 'HTTP/1.';

export class ResponseFraming {
  private readonly sent: SentRequest[] = [];
  private state: 'head' | 'length' | 'chunked' | 'until-close' | 'switched' = 'head';
  private remaining = 0;
  private chunked: ChunkedBody | undefined;
  private partial: Buffer | undefined;
  private closes = false;
  /** Bytes of the current response already relayed to the client (a failed request with none can be retried). */
  private started = false;

  constructor(private readonly events: FramingEvents) {}

  /** Records a request sent up; its response is the next one unanswered. */
  expect(request: SentRequest): void {
    this.sent.push(request);
  }

  /** Requests sent up whose response has not ended. */
  get pending(): number {
    return this.sent.length;
  }

  /** Whether part of a response has already gone to the client. */
  get midResponse(): boolean {
    return this.started || this.partial !== undefined || this.state !== 'head';
  }

  /** The connection carries another protocol (after a 101) or a body that ends only when the service closes. */
  get opaque(): boolean {
    return this.state === 'switched' || this.state === 'until-close';
  }

  /** Reads one chunk the service sent. */
  scan(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      switch (this.state) {
        case 'switched':
        case 'until-close':
          return;
        case 'length': {
          const n = Math.min(this.remaining, chunk.length - at);
          this.remaining -= n;
          at += n;
          if (this.remaining === 0) this.ended();
          break;
        }
        case 'chunked': {
          const end = this.chunked!.scan(chunk, at);
          if (end === -2) {
            this.state = 'until-close'; // not chunked encoding after all: nothing more can be told apart
            return;
          }
          if (end === -1) return;
          at = end;
          this.ended();
          break;
        }
        case 'head':
          at = this.readHead(chunk, at);
          break;
      }
    }
  }

  /** The service closed its side: a response read until then is complete. */
  closed(): void {
    if (this.state === 'until-close') {
      this.state = 'head';
      this.closes = true;
      this.ended();
    }
  }

  private readHead(chunk: Buffer, at: number): number {
    const before = this.partial?.length ?? 0;
    const bytes = this.partial ? Buffer.concat([this.partial, chunk.subarray(at)]) : at === 0 ? chunk : chunk.subarray(at);
    const found = bytes.indexOf(HEAD_END, Math.max(0, before - 3));
    if (found < 0) {
      if (bytes.length > MAX_RESPONSE_HEAD) this.state = 'until-close';
      // A copy: the chunk's memory is read into again (the splice reuses its read buffer).
      else this.partial = Buffer.from(bytes);
      this.started = true;
      return chunk.length;
    }
    this.partial = undefined;
    const end = found + 4;
    this.started = true;
    this.beginBody(bytes, found);
    return at + end - before;
  }

  /** Reads a response head (`bytes[0, end)`, without its blank line) and decides how its body is delimited. */
  private beginBody(bytes: Buffer, end: number): void {
    // `HTTP/1.x nnn` then a space or the end of the line.
    const code = end >= 12 && isHttp1(bytes) && bytes[8] === 32 ? statusCode(bytes) : -1;
    const minor = bytes[7];
    if (code < 0 || (minor !== 48 && minor !== 49) || (end > 12 && bytes[12] !== 32 && bytes[12] !== CR)) {
      this.state = 'until-close'; // not HTTP/1.x: relay whatever comes until the service closes
      return;
    }
    const request = this.sent[0];
    if (code === 101) {
      this.sent.shift();
      this.state = 'switched';
      this.events.onSwitch();
      return;
    }
    if (code < 200) {
      this.started = false; // 100 Continue, 103 Early Hints: the final response is still to come
      return;
    }
    const headers = readFraming(bytes, end);
    this.closes = headers.close || minor === 48;
    if (request?.head || code === 204 || code === 304) return this.ended();
    if (headers.transferEncoding !== NONE) {
      if (headers.transferEncoding === CHUNKED) {
        this.state = 'chunked';
        this.chunked = new ChunkedBody();
      } else this.state = 'until-close';
      return;
    }
    if (headers.contentLength < 0) {
      this.state = 'until-close';
      return;
    }
    if (headers.contentLength === 0) return this.ended();
    this.state = 'length';
    this.remaining = headers.contentLength;
  }

  private ended(): void {
    this.sent.shift();
    this.state = 'head';
    this.started = false;
    this.chunked = undefined;
    const closes = this.closes;
    this.closes = false;
    this.events.onResponseEnd(closes);
  }
}

function isHttp1(bytes: Buffer): boolean {
  for (let i = 0; i < HTTP_1.length; i++) if (bytes[i] !== HTTP_1.charCodeAt(i)) return false;
  return true;
}

/** The three digits of a status line (`HTTP/1.1 200`), or -1. */
function statusCode(bytes: Buffer): number {
  let code = 0;
  for (let i = 9; i < 12; i++) {
    const digit = bytes[i]! - 48;
    if (digit < 0 || digit > 9) return -1;
    code = code * 10 + digit;
  }
  return code;
}

const NONE = 0;
const CHUNKED = 1;
const OTHER = 2;

interface Framing {
  /** -1: none, or not a number. */
  contentLength: number;
  /** The last Transfer-Encoding line: none, one whose last coding is chunked, or another. */
  transferEncoding: typeof NONE | typeof CHUNKED | typeof OTHER;
  close: boolean;
}

/** One result object, reused: a response head is read to its end before the next one. */
const framing: Framing = { contentLength: -1, transferEncoding: NONE, close: false };

/** Content-Length, Transfer-Encoding and `Connection: close` of a response head (`bytes[0, end)`, status line included). */
function readFraming(bytes: Buffer, end: number): Framing {
  framing.contentLength = -1;
  framing.transferEncoding = NONE;
  framing.close = false;
  let start = bytes.indexOf(LF) + 1;
  if (start === 0) return framing; // only a status line
  while (start < end) {
    let stop = bytes.indexOf(LF, start);
    if (stop < 0 || stop > end) stop = end;
    const lineEnd = stop > start && bytes[stop - 1] === CR ? stop - 1 : stop;
    let colon = start;
    while (colon < lineEnd && bytes[colon] !== 58) colon++;
    if (colon > start && colon < lineEnd) {
      switch (colon - start) {
        case 10:
          if (nameIs(bytes, start, colon, 'connection') && listHas(bytes, colon + 1, lineEnd, 'close')) framing.close = true;
          break;
        case 14:
          if (nameIs(bytes, start, colon, 'content-length')) framing.contentLength = lengthValue(bytes, colon + 1, lineEnd);
          break;
        case 17:
          if (nameIs(bytes, start, colon, 'transfer-encoding')) framing.transferEncoding = listEndsWith(bytes, colon + 1, lineEnd, 'chunked') ? CHUNKED : OTHER;
          break;
      }
    }
    start = stop + 1;
  }
  return framing;
}
