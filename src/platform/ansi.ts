/** CSI sequences (colours, cursor moves), OSC sequences (titles, links) and two-byte escapes. */
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;

/** Text without terminal escape codes. */
export function stripAnsi(text: string): string {
  return text.includes('\u001b') ? text.replace(ANSI, '') : text;
}

/** SGR sequences: colours and text styles, which a log viewer can render. */
const NOT_SGR = /\u001b\[[0-?]*[ -/]*[@-ln-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;

/** Text with its colours and styles (SGR) but without any other escape code (cursor moves, titles, links). */
export function keepColours(text: string): string {
  return text.includes('\u001b') ? text.replace(NOT_SGR, '') : text;
}
