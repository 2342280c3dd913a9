import { CR, HEAD_END, lengthValue, LF, listEndsWith, nameIs, SPACE, TAB } from './head-bytes.js';
import { HOP_HEADER } from './hops.js';

/**
 * Just enough HTTP/1.x request parsing for the fast path: where a request head ends, which host it names, and
 * how its body is delimited, so a spliced connection can check each request without building request objects.
 * Anything unusual is reported as such (`reject`), and the fast path then leaves the connection to Node's own
 * HTTP parser on the general path.
 */

export interface RequestHead {
  method: string;
  /** The request target as sent: a path, or an absolute URI (whose authority then names the host). */
  target: string;
  /** The first `Host` value; undefined when there is none. */
  host: string | undefined;
  /** How many `Host` headers the head carries (more than one is refused, as nginx and Caddy do). */
  hostCount: number;
  /** The hop count it arrives with (portbroker's hop header; 0 when it did not come through the proxy). */
  hops: number;
  /**
   * How the body is delimited. `upgrade`: after this request the connection may carry another protocol.
   * `reject`: framing the fast path will not vouch for (Content-Length with Transfer-Encoding, a bad length,
   * folded lines, a bare CR or LF, CONNECT), left to the general path.
   */
  body: 'none' | 'length' | 'chunked' | 'upgrade' | 'reject';
  contentLength: number;
  /**
   * Byte ranges `[start, end, start, end …]` of header lines the proxy replaces when it sends the head up:
   * client-sent X-Forwarded-For/-Host/-Proto/-Port and the hop header. Undefined when there are none.
   */
  replaced: number[] | undefined;
}

/** Node's maxHeaderSize: a bigger head goes to the general path, whose parser answers 431, so both paths agree. */
export const MAX_HEAD_BYTES = 16 * 1024;
const LF_HEAD_END = Buffer.from('\n\n');
const LF_CRLF_END = Buffer.from('\n\r\n');

/** The index just past the blank line that ends a head starting at or before `from`, or -1. */
export function findHeadEnd(buffer: Buffer, from = 0): number {
  const at = buffer.indexOf(HEAD_END, from);
  return at < 0 ? -1 : at + 4;
}

/**
 * A head whose lines end in a bare LF (`GET / HTTP/1.1\nHost: a\n\n`), which nginx and Caddy serve and Node's
 * parser refuses: the bytes with that head rewritten to CRLF line ends, so every parser after this one reads it
 * alike; `incomplete` while its end has not arrived; undefined when the head's first line ends in CRLF.
 */
export function lineFeedHead(buffer: Buffer): Buffer | 'incomplete' | undefined {
  const lf = buffer.indexOf(10);
  if (lf < 0) return buffer.length > MAX_HEAD_BYTES ? undefined : 'incomplete';
  if (lf === 0 || buffer[lf - 1] === 13) return undefined;
  const a = buffer.indexOf(LF_HEAD_END, lf);
  const b = buffer.indexOf(LF_CRLF_END, lf);
  const end = a >= 0 && (b < 0 || a < b) ? a + 2 : b >= 0 ? b + 3 : -1;
  if (end < 0) return 'incomplete';
  const head = buffer.toString('latin1', 0, end).replace(/\r?\n/g, '\r\n');
  return Buffer.concat([Buffer.from(head, 'latin1'), buffer.subarray(end)]);
}

/** Parses the head in `buffer[0, end)`; undefined when it is not an HTTP/1.0 or 1.1 request. */
export function parseRequestHead(buffer: Buffer, end: number): RequestHead | undefined {
  const stop = end - 4; // the head without its blank line
  // The request line: `METHOD target HTTP/1.x`.
  if (!isUpper(buffer[0]!)) return undefined;
  let at = 1;
  while (at < stop && isMethodByte(buffer[at]!)) at++;
  const methodEnd = at;
  if (buffer[at++] !== SPACE) return undefined;
  const targetStart = at;
  while (at < stop && !isWhiteSpace(buffer[at]!)) at++;
  const targetEnd = at;
  if (targetEnd === targetStart || buffer[at++] !== SPACE || stop - at < 8 || !startsWith(buffer, at, 'HTTP/1.')) return undefined;
  if (buffer[at + 7] !== ZERO && buffer[at + 7] !== ONE) return undefined;
  at += 8;
  if (at < stop && (buffer[at] !== CR || buffer[at + 1] !== LF)) return undefined;
  const method = methodName(buffer, methodEnd);
  const target = buffer.toString('latin1', targetStart, targetEnd);
  let host: string | undefined;
  let hostCount = 0;
  let hops = 0;
  let contentLength = -1;
  let chunked = false;
  let transferEncoding = false;
  let upgrade = false;
  let replaced: number[] | undefined;
  let bad = method === 'CONNECT';

  for (let start = at + 2; start < stop; ) {
    // The line runs to the first CR or LF, which must be a CRLF (or the head's end); its name to the first colon.
    let colon = -1;
    let lineEnd = start;
    for (; lineEnd < stop; lineEnd++) {
      const byte = buffer[lineEnd]!;
      if (byte === CR || byte === LF) break;
      if (byte === COLON && colon < 0) colon = lineEnd;
    }
    const first = buffer[start];
    if (colon <= start || first === SPACE || first === TAB || (lineEnd < stop && (buffer[lineEnd] !== CR || buffer[lineEnd + 1] !== LF))) {
      bad = true; // no name, an obsolete folded line, or a lone CR or LF that another parser may read as a line end
      break;
    }
    // Compare names only when the length matches: most lines are skipped without reading their name.
    switch (colon - start) {
      case 4:
        if (nameIs(buffer, start, colon, 'host')) {
          if (hostCount++ === 0) host = buffer.toString('latin1', colon + 1, lineEnd).trim();
        }
        break;
      case 7:
        if (nameIs(buffer, start, colon, 'upgrade')) upgrade = true;
        break;
      case 14:
        if (nameIs(buffer, start, colon, 'content-length')) {
          const n = lengthValue(buffer, colon + 1, lineEnd);
          if (n < 0 || (contentLength >= 0 && n !== contentLength)) bad = true;
          contentLength = n < 0 ? -2 : n;
        }
        break;
      case 15:
      case 16:
        if (isForwardedHeader(buffer, start, colon)) (replaced ??= []).push(start, lineEnd + 2);
        break;
      case 17:
        if (nameIs(buffer, start, colon, 'transfer-encoding')) {
          transferEncoding = true;
          chunked = listEndsWith(buffer, colon + 1, lineEnd, 'chunked');
        } else if (nameIs(buffer, start, colon, HOP_HEADER)) {
          // The last one counts, as Node joins repeated values and the general path reads the last.
          const n = Number.parseInt(buffer.toString('latin1', colon + 1, lineEnd).trim(), 10);
          hops = Number.isFinite(n) && n > 0 ? n : 0;
          (replaced ??= []).push(start, lineEnd + 2);
        } else if (isForwardedHeader(buffer, start, colon)) (replaced ??= []).push(start, lineEnd + 2);
        break;
    }
    start = lineEnd + 2;
  }

  let body: RequestHead['body'];
  if (bad || (transferEncoding && (!chunked || contentLength >= 0))) body = 'reject';
  else if (upgrade) body = 'upgrade';
  else if (chunked) body = 'chunked';
  else body = contentLength > 0 ? 'length' : 'none';
  return { method, target, host, hostCount, hops, body, contentLength: Math.max(contentLength, 0), replaced };
}

/** A header's value in a raw head (for the rare answers the fast path writes itself, e.g. `Accept`). */
export function headerValue(head: Buffer, name: string): string | undefined {
  const match = new RegExp(`\\r\\n${name}:[ \\t]*([^\\r]*)`, 'i').exec(head.toString('latin1'));
  return match?.[1]?.trim();
}

/** X-Forwarded-For, -Host, -Proto and -Port: the client's word for what only the proxy knows. */
function isForwardedHeader(buffer: Buffer, start: number, colon: number): boolean {
  return FORWARDED_NAMES.some((name) => nameIs(buffer, start, colon, name));
}

const FORWARDED_NAMES = ['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-port'];

/** The usual methods as constants (no string made per request); any other as read. */
function methodName(buffer: Buffer, end: number): string {
  for (const method of METHODS) if (method.length === end && startsWith(buffer, 0, method)) return method;
  return buffer.toString('latin1', 0, end);
}

const METHODS = ['GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'];

function startsWith(buffer: Buffer, at: number, text: string): boolean {
  for (let i = 0; i < text.length; i++) if (buffer[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

function isUpper(byte: number): boolean {
  return byte >= 65 && byte <= 90;
}

/** `[A-Z0-9_-]`, what a method is made of after its first letter. */
function isMethodByte(byte: number): boolean {
  return isUpper(byte) || (byte >= 48 && byte <= 57) || byte === 95 || byte === 45;
}

/** What `\s` matches in a latin1 string: a target is the bytes up to the first of these. */
function isWhiteSpace(byte: number): boolean {
  return byte === SPACE || (byte >= TAB && byte <= CR) || byte === 0xa0;
}

const COLON = 58;
const ZERO = 48;
const ONE = 49;
