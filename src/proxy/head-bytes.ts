/**
 * Reading HTTP head fields straight from the bytes, for the fast path's parsers: every request and response on a
 * spliced connection goes through them, and turning a head into a string (then slicing, lower-casing and
 * matching it) cost more than relaying its bytes. Names are compared byte by byte, values are read in place, and
 * a string is made only for what the routing steps read (method, target, Host).
 */

export const CR = 13;
export const LF = 10;
export const SPACE = 32;
export const TAB = 9;
const COMMA = 44;
/** The blank line that ends a head. */
export const HEAD_END = Buffer.from('\r\n\r\n');

/** An ASCII letter in lower case; every other byte as it is (so `\r` never passes for `-`). */
function lower(byte: number): number {
  return byte >= 65 && byte <= 90 ? byte + 32 : byte;
}

/** Whether `buffer[start, end)` is the header name `name` (given in lower case), in any case. */
export function nameIs(buffer: Buffer, start: number, end: number, name: string): boolean {
  if (end - start !== name.length) return false;
  for (let i = 0; i < name.length; i++) if (lower(buffer[start + i]!) !== name.charCodeAt(i)) return false;
  return true;
}

/** Where the value starting at `start` begins once optional white space is skipped. */
function trimStart(buffer: Buffer, start: number, end: number): number {
  while (start < end && (buffer[start] === SPACE || buffer[start] === TAB)) start++;
  return start;
}

/** Where the value ending at `end` ends once optional white space is dropped. */
function trimEnd(buffer: Buffer, start: number, end: number): number {
  while (end > start && (buffer[end - 1] === SPACE || buffer[end - 1] === TAB)) end--;
  return end;
}

/** A Content-Length value (1 to 15 digits between optional white space), or -1 when it is anything else. */
export function lengthValue(buffer: Buffer, start: number, end: number): number {
  start = trimStart(buffer, start, end);
  end = trimEnd(buffer, start, end);
  if (end === start || end - start > 15) return -1;
  let n = 0;
  for (let i = start; i < end; i++) {
    const digit = buffer[i]! - 48;
    if (digit < 0 || digit > 9) return -1;
    n = n * 10 + digit;
  }
  return n;
}

/** Whether the comma-separated list in `buffer[start, end)` holds `token` (lower case), in any case. */
export function listHas(buffer: Buffer, start: number, end: number, token: string): boolean {
  for (let from = start; from <= end; ) {
    let comma = from;
    while (comma < end && buffer[comma] !== COMMA) comma++;
    const a = trimStart(buffer, from, comma);
    if (nameIs(buffer, a, trimEnd(buffer, a, comma), token)) return true;
    from = comma + 1;
  }
  return false;
}

/** Whether the last element of the comma-separated list in `buffer[start, end)` is `token` (lower case). */
export function listEndsWith(buffer: Buffer, start: number, end: number, token: string): boolean {
  let comma = end;
  while (comma > start && buffer[comma - 1] !== COMMA) comma--;
  const a = trimStart(buffer, comma, end);
  return nameIs(buffer, a, trimEnd(buffer, a, end), token);
}
