import { HOP_HEADER } from './hops.js';

/**
 * Just enough HTTP/1.x request parsing for the fast path: where a request head ends, which host it names, and
 * how its body is delimited, so a spliced connection can check each request without building request objects.
 * Anything unusual is reported as such (`reject`), and the fast path then leaves the connection to Node's own
 * HTTP parser on the general path.
 */

export interface RequestHead {
  method: string;
  /** The raw `Host` value; undefined when missing or given twice. */
  host: string | undefined;
  /**
   * How the body is delimited. `upgrade`: after this request the connection may carry another protocol.
   * `reject`: framing the fast path will not vouch for (Content-Length with Transfer-Encoding, a bad length,
   * folded lines, CONNECT), left to the general path.
   */
  body: 'none' | 'length' | 'chunked' | 'upgrade' | 'reject';
  contentLength: number;
  /** It already came through a proxy: X-Forwarded-*, Forwarded, or portbroker's hop header. */
  forwarded: boolean;
}

export const MAX_HEAD_BYTES = 64 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');
const REQUEST_LINE = /^([A-Z][A-Z0-9_-]*) \S+ HTTP\/1\.[01]$/;

/** The index just past the blank line that ends a head starting at or before `from`, or -1. */
export function findHeadEnd(buffer: Buffer, from = 0): number {
  const at = buffer.indexOf(HEAD_END, from);
  return at < 0 ? -1 : at + 4;
}

/** Parses the head in `buffer[0, end)`; undefined when it is not an HTTP/1.0 or 1.1 request. */
export function parseRequestHead(buffer: Buffer, end: number): RequestHead | undefined {
  const text = buffer.toString('latin1', 0, end - 4);
  let lineEnd = text.indexOf('\r\n');
  if (lineEnd < 0) lineEnd = text.length;
  const requestLine = REQUEST_LINE.exec(text.slice(0, lineEnd));
  if (!requestLine) return undefined;
  const method = requestLine[1]!;
  let host: string | undefined;
  let hosts = 0;
  let contentLength = -1;
  let chunked = false;
  let transferEncoding = false;
  let upgrade = false;
  let forwarded = false;
  let bad = method === 'CONNECT';

  for (let start = lineEnd + 2; start < text.length; ) {
    let stop = text.indexOf('\r\n', start);
    if (stop < 0) stop = text.length;
    const colon = text.indexOf(':', start);
    const first = text.charCodeAt(start);
    if (colon < 0 || colon > stop || colon === start || first === 32 || first === 9) {
      bad = true; // no name, or an obsolete folded line
      break;
    }
    const nameLength = colon - start;
    // Compare names only when the length matches: most lines are skipped without lower-casing anything.
    switch (nameLength) {
      case 4:
        if (isName(text, start, colon, 'host')) {
          hosts++;
          host = text.slice(colon + 1, stop).trim();
        }
        break;
      case 7:
        if (isName(text, start, colon, 'upgrade')) upgrade = true;
        break;
      case 9:
        if (isName(text, start, colon, 'forwarded')) forwarded = true;
        break;
      case 14:
        if (isName(text, start, colon, 'content-length')) {
          const value = text.slice(colon + 1, stop).trim();
          const n = /^\d{1,15}$/.test(value) ? Number(value) : -2;
          if (n < 0 || (contentLength >= 0 && n !== contentLength)) bad = true;
          contentLength = n;
        }
        break;
      case 17:
        if (isName(text, start, colon, 'transfer-encoding')) {
          transferEncoding = true;
          chunked = /(?:^|,)\s*chunked\s*$/i.test(text.slice(colon + 1, stop));
        } else if (isName(text, start, colon, HOP_HEADER)) forwarded = true; // same length as transfer-encoding
        break;
    }
    if (nameLength > 12 && isName(text, start, start + 12, 'x-forwarded-')) forwarded = true;
    start = stop + 2;
  }

  if (hosts !== 1) host = undefined;
  let body: RequestHead['body'];
  if (bad || (transferEncoding && (!chunked || contentLength >= 0))) body = 'reject';
  else if (upgrade) body = 'upgrade';
  else if (chunked) body = 'chunked';
  else body = contentLength > 0 ? 'length' : 'none';
  return { method, host, body, contentLength: Math.max(contentLength, 0), forwarded };
}

/** A header's value in a raw head (for the rare answers the fast path writes itself, e.g. `Accept`). */
export function headerValue(head: Buffer, name: string): string | undefined {
  const match = new RegExp(`\\r\\n${name}:[ \\t]*([^\\r]*)`, 'i').exec(head.toString('latin1'));
  return match?.[1]?.trim();
}

function isName(text: string, start: number, end: number, lower: string): boolean {
  return text.slice(start, end).toLowerCase() === lower;
}
