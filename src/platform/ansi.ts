// CSI sequences end in a byte from @ to ~ (colours and styles, SGR, in m); OSC sequences (titles, links) and
// two-byte escapes are the rest.
const CSI = '\\u001b\\[[0-?]*[ -/]*';
const OTHER_ESCAPES = '\\u001b\\][^\\u0007\\u001b]*(?:\\u0007|\\u001b\\\\)|\\u001b[@-Z\\\\-_]';
const ANSI = new RegExp(`${CSI}[@-~]|${OTHER_ESCAPES}`, 'g');
const NOT_SGR = new RegExp(`${CSI}[@-ln-~]|${OTHER_ESCAPES}`, 'g');

/** Text without terminal escape codes. */
export function stripAnsi(text: string): string {
  return text.includes('\u001b') ? text.replace(ANSI, '') : text;
}

/** Text with its colours and styles (SGR) but without any other escape code (cursor moves, titles, links). */
export function keepColours(text: string): string {
  return text.includes('\u001b') ? text.replace(NOT_SGR, '') : text;
}
