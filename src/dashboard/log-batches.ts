import { stripAnsi } from '../platform/ansi.js';
import { isStamped, logText, STAMP_LENGTH } from '../runner/log-file.js';
import { lastLines, type LogPosition, type Tail } from '../runner/log-reader.js';
import { eventText } from './sse.js';

/** What one stream wants of the log: every line (the default), or a view of it. */
export interface LogView {
  /** Only lines whose text holds this, ignoring case. */
  query?: string;
  /**
   * At most this many lines at a time, the newest, about once a second (`LatestLines`): for a page that shows the
   * end of a busy log, which cannot display more and should not parse what it would drop. The lines left out are
   * counted in `event: skipped`.
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

/** Events for a view, each at most ~64 KB, and how many lines they stand for (shown or counted as left out). */
export interface ViewBatch {
  events: string[];
  lines: number;
}

/** The events a view without `latest` gets for a batch: every line its `query` keeps (none: no event). */
export function batchEvents(service: string, lines: string[], query: string | undefined): ViewBatch {
  const shown = matching(lines, query);
  return { events: shown.length === 0 ? [] : linesEvents(service, shown), lines: shown.length };
}

export const LATEST_EVERY_MS = 1000;

/**
 * A `latest` view's lines between its events, which come about once every LATEST_EVERY_MS (its reader checks every
 * so often; a stream that joins the view takes what it held at once): the newest `latest` of the lines since the
 * last event, the others counted. The page that asks for it paints a busy log once a second; each event it gets
 * costs it a parse and a dispatch (about a millisecond in headless Chromium here) whatever the event holds, and the
 * proxy a write. The first lines after a quiet spell go with the next check.
 */
export class LatestLines {
  private lines: string[] = [];
  private left = 0;
  private sentAt = -Infinity;

  constructor(
    private readonly service: string,
    private readonly latest: number,
    private readonly query: string | undefined,
  ) {}

  add(lines: string[]): void {
    const shown = matching(lines, this.query);
    if (shown.length === 0) return;
    const kept = shown.length >= this.latest ? shown.slice(-this.latest) : this.lines.concat(shown).slice(-this.latest);
    this.left += this.lines.length + shown.length - kept.length;
    this.lines = kept;
  }

  /**
   * The event due at `now` (ms), if any: `slack` early is on time, for a caller that looks every so often and
   * would otherwise send one check late.
   */
  take(now: number, slack: number): ViewBatch | undefined {
    if (this.lines.length === 0 || now - this.sentAt < LATEST_EVERY_MS - slack) return undefined;
    const events = this.left > 0 ? [eventText('skipped', `{"lines":${this.left},"reason":"latest"}`)] : [];
    events.push(...linesEvents(this.service, this.lines));
    const batch = { events, lines: this.lines.length + this.left };
    this.lines = [];
    this.left = 0;
    this.sentAt = now;
    return batch;
  }
}

/** `lines` event(s) for lines that are all shown. */
function linesEvents(service: string, lines: string[]): string[] {
  return eventSized(lines).map((part) => eventText('lines', linesJson(service, part)));
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
  // Pieces joined once, a flat string: built with `+` it was a tree of a few small strings per line, which the
  // reader thread flattened again to post it (see READER_YOUNG_MB in log-hub.ts for what this and that measured).
  const head = `{"service":${JSON.stringify(service)},"time":`;
  const parts = ['['];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (i > 0) parts.push(',');
    if (isStamped(line)) parts.push(head, '"', line.slice(0, STAMP_LENGTH - 1), '","text":', JSON.stringify(line.slice(STAMP_LENGTH)), '}');
    else parts.push(head, 'null,"text":', JSON.stringify(line), '}');
  }
  parts.push(']');
  return parts.join('');
}
