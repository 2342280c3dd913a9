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
const HEAD_END = Buffer.from('\r\n\r\n');
const LF_HEAD_END = Buffer.from('\n\n');
const LF_CRLF_END = Buffer.from('\n\r\n');
const REQUEST_LINE = /^([A-Z][A-Z0-9_-]*) (\S+) HTTP\/1\.[01]$/;

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
  const text = buffer.toString('latin1', 0, end - 4);
  let lineEnd = text.indexOf('\r\n');
  if (lineEnd < 0) lineEnd = text.length;
  const requestLine = REQUEST_LINE.exec(text.slice(0, lineEnd));
  if (!requestLine) return undefined;
  const method = requestLine[1]!;
  const target = requestLine[2]!;
  let host: string | undefined;
  let hostCount = 0;
  let hops = 0;
  let contentLength = -1;
  let chunked = false;
  let transferEncoding = false;
  let upgrade = false;
  let replaced: number[] | undefined;
  let bad = method === 'CONNECT';

  for (let start = lineEnd + 2; start < text.length; ) {
    let stop = text.indexOf('\r\n', start);
    if (stop < 0) stop = text.length;
    const colon = text.indexOf(':', start);
    const first = text.charCodeAt(start);
    if (colon < 0 || colon > stop || colon === start || first === 32 || first === 9 || hasBareBreak(text, start, stop)) {
      bad = true; // no name, an obsolete folded line, or a lone CR or LF that another parser may read as a line end
      break;
    }
    const nameLength = colon - start;
    // Compare names only when the length matches: most lines are skipped without lower-casing anything.
    switch (nameLength) {
      case 4:
        if (isName(text, start, colon, 'host')) {
          if (hostCount++ === 0) host = text.slice(colon + 1, stop).trim();
        }
        break;
      case 7:
        if (isName(text, start, colon, 'upgrade')) upgrade = true;
        break;
      case 14:
        if (isName(text, start, colon, 'content-length')) {
          const value = text.slice(colon + 1, stop).trim();
          const n = /^\d{1,15}$/.test(value) ? Number(value) : -2;
          if (n < 0 || (contentLength >= 0 && n !== contentLength)) bad = true;
          contentLength = n;
        }
        break;
      case 15:
      case 16:
        if (isForwardedHeader(text, start, colon)) (replaced ??= []).push(start, stop + 2);
        break;
      case 17:
        if (isName(text, start, colon, 'transfer-encoding')) {
          transferEncoding = true;
          chunked = /(?:^|,)\s*chunked\s*$/i.test(text.slice(colon + 1, stop));
        } else if (isName(text, start, colon, HOP_HEADER)) {
          // The last one counts, as Node joins repeated values and the general path reads the last.
          const n = Number.parseInt(text.slice(colon + 1, stop).trim(), 10);
          hops = Number.isFinite(n) && n > 0 ? n : 0;
          (replaced ??= []).push(start, stop + 2);
        } else if (isForwardedHeader(text, start, colon)) (replaced ??= []).push(start, stop + 2);
        break;
    }
    start = stop + 2;
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
function isForwardedHeader(text: string, start: number, colon: number): boolean {
  if (!isName(text, start, start + 12, 'x-forwarded-')) return false;
  const rest = text.slice(start + 12, colon).toLowerCase();
  return rest === 'for' || rest === 'host' || rest === 'proto' || rest === 'port';
}

/** A CR or LF inside the line `[start, stop)` (the line itself ends at the CRLF at `stop`). */
function hasBareBreak(text: string, start: number, stop: number): boolean {
  const lf = text.indexOf('\n', start);
  if (lf >= 0 && lf < stop) return true;
  const cr = text.indexOf('\r', start);
  return cr >= 0 && cr < stop;
}

/** Whether `text[start, end)` is the header name `lower`, in any case. */
export function isName(text: string, start: number, end: number, lower: string): boolean {
  return text.slice(start, end).toLowerCase() === lower;
}
