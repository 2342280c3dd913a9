import { stripAnsi } from '../platform/ansi.js';
import { isStamped, logText, STAMP_LENGTH } from '../runner/log-file.js';
import { lastLines, type LogPosition, type Tail } from '../runner/log-reader.js';
import { eventText } from './sse.js';

/** What one stream wants of the log: every line (the default), or a view of it. */
export interface LogView {
  /** Only lines whose text holds this, ignoring case. */
  query?: string;
  /**
   * At most this many lines of each batch (so twice a second), its newest: for a page that shows the end of a busy
   * log, which cannot display more and should not parse what it would drop. The lines left out are counted in
   * `event: skipped`.
   */
  latest?: number;
}

/** Streams of equal views share one event per batch. */
export function viewKey(view: LogView): string {
  return `${view.latest ?? ''}\n${view.query ?? ''}`;
}

/** A search (`query`) looks for its lines this far back in the log. */
export const SEARCHED_LINES = 5_000;

/**
 * The last `count` lines of a log file that `query` keeps (all of them without one), and where the file ends;
 * with `upTo`, those before that point (`lastLines`).
 */
export function viewTail(file: string, count: number, query: string | undefined, upTo?: LogPosition): Tail {
  const tail = lastLines(file, query && count > 0 ? SEARCHED_LINES : count, upTo);
  return { lines: count === 0 ? [] : matching(tail.lines, query).slice(-count), position: tail.position };
}

/**
 * The events a view gets for a batch (none when nothing of it matches, each at most ~64 KB), and how many lines
 * they stand for.
 */
export function batchEvents(service: string, lines: string[], view: LogView): { events: string[]; lines: number } {
  const shown = matching(lines, view.query);
  if (shown.length === 0) return { events: [], lines: 0 };
  const left = view.latest !== undefined && shown.length > view.latest ? shown.length - view.latest : 0;
  const events = left > 0 ? [eventText('skipped', `{"lines":${left},"reason":"latest"}`)] : [];
  for (const part of eventSized(left > 0 ? shown.slice(left) : shown)) events.push(eventText('lines', linesJson(service, part)));
  return { events, lines: shown.length };
}

/**
 * A `lines` event's JSON is kept to about EVENT_CHARS: V8 allocates a string over 128 KB in its large-object space,
 * which counts toward the next full collection. Measured: 20 followed logs at 1,000 lines/s sent as one event per
 * file a second (~130 KB each) cost the proxy 5.5% of a core; the same lines in events of 400 lines, 3.2–3.6%.
 */
const EVENT_CHARS = 64 * 1024;
/** What `linesJson` adds to a line: the braces, the field names, the service and the time (an estimate). */
const LINE_OVERHEAD = 64;

/** `lines` in runs whose JSON stays near EVENT_CHARS (a run holds at least one line). */
function eventSized(lines: string[]): string[][] {
  const runs: string[][] = [];
  let start = 0;
  let size = 0;
  for (let i = 0; i < lines.length; i++) {
    const length = lines[i]!.length + LINE_OVERHEAD;
    if (size + length > EVENT_CHARS && i > start) {
      runs.push(lines.slice(start, i));
      start = i;
      size = 0;
    }
    size += length;
  }
  runs.push(start === 0 ? lines : lines.slice(start));
  return runs;
}

/** The lines whose text (after the time, without colour codes) holds `query`, ignoring case; all of them without one. */
function matching(lines: string[], query: string | undefined): string[] {
  if (!query) return lines;
  const wanted = query.toLowerCase();
  return lines.filter((line) => stripAnsi(logText(line)).toLowerCase().includes(wanted));
}

/**
 * `JSON.stringify(logLines(service, lines))` (runner/log-file.ts), written out without the objects: 20 busy logs
 * followed are 20,000 lines a second, and this takes about half the time of an object per line serialised.
 */
export function linesJson(service: string, lines: string[]): string {
  const head = `{"service":${JSON.stringify(service)},"time":`;
  let json = '[';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (i > 0) json += ',';
    json += isStamped(line)
      ? `${head}"${line.slice(0, STAMP_LENGTH - 1)}","text":${JSON.stringify(line.slice(STAMP_LENGTH))}}`
      : `${head}null,"text":${JSON.stringify(line)}}`;
  }
  return `${json}]`;
}
