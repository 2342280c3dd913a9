import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { stripAnsi } from '../platform/ansi.js';
import { logText } from '../runner/log-file.js';

/**
 * The last `lines` lines of a service's log file (what the runner appended), without colour codes; empty when
 * there is no log. Reads only the end of the file: logs can be large.
 */
export function logTail(file: string, lines = 15, maxBytes = 16 * 1024): string[] {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return [];
  }
  try {
    const size = fstatSync(fd).size;
    const start = Math.max(0, size - maxBytes);
    const buffer = Buffer.alloc(size - start);
    readSync(fd, buffer, 0, buffer.length, start);
    const all = stripAnsi(buffer.toString('utf8')).split(/\r?\n/);
    if (start > 0) all.shift(); // cut mid-line
    while (all.length > 0 && all[all.length - 1]!.trim() === '') all.pop();
    return all.slice(-lines).map(logText);
  } catch {
    return [];
  } finally {
    closeSync(fd);
  }
}
