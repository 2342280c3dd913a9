import { stripAnsi } from '../platform/ansi.js';
import { isStamped, logText, STAMP_LENGTH } from '../runner/log-file.js';
import { lastLines, LogFollower, type LogPosition, type Tail } from '../runner/log-reader.js';
import { eventFrame, type EventStream } from './sse.js';

export interface LogHubOptions {
  /**
   * How often each followed file is checked for new lines (default 500 ms): at most one event per file per check.
   * Each event costs the proxy a socket write, and the reader a wake-up (the page a message and a layout), whatever
   * its size: at 1,000 lines/s, each step from 100 to 250 to 500 ms took a large part off the proxy's, the
   * readers' and Chromium's CPU, and a log line half a second late is still live to a reader.
   */
  pollMs?: number;
  /** Bytes a client may leave untaken before it is skipped (default 1 MiB). */
  maxBacklog?: number;
}

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

const READ_PER_100_MS = 256 * 1024;

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
 * Every open log stream of the dashboard, with one reader per log file however many pages follow it: each batch
 * of new lines is read once, made into one `lines` event once per view (every line, or a page's `latest`/`query`),
 * and the same bytes written to every stream of that view.
 *
 * A stream whose client does not keep up (more than `maxBacklog` bytes written but not taken) is skipped rather
 * than buffered without bound; once less than that waits again it gets `event: skipped` with the number of lines
 * it missed (`{"lines": N, "reason": "slow"}`), then the new lines. The log file keeps them all.
 */
export class LogHub {
  private readonly logs = new Map<string, SharedLog>();
  private readonly maxBacklog: number;
  /**
   * One timer checks every followed file: the writes of a check go out together, so a reader of several streams
   * (and the kernel) wakes once per check rather than once per file.
   */
  private poll: NodeJS.Timeout | undefined;

  private readonly pollMs: number;

  constructor(options: LogHubOptions = {}) {
    this.maxBacklog = options.maxBacklog ?? 1024 * 1024;
    this.pollMs = options.pollMs ?? 500;
  }

  /** Sends `stream` the last `count` lines of `service`'s log `file` (of its view), then each batch of new lines until it closes. */
  follow(file: string, service: string, count: number, stream: EventStream, view: LogView = {}): void {
    let log = this.logs.get(file);
    // The lines before where the shared reader is: the stream gets everything after from it, nothing twice.
    const tail = viewTail(file, count, view.query, log?.position);
    if (!log) {
      log = new SharedLog(file, service, tail.position, this.maxBacklog, this.pollMs);
      this.logs.set(file, log);
      this.poll ??= setInterval(() => this.logs.forEach((shared) => shared.pump()), this.pollMs).unref();
    }
    stream.sendRaw('lines', linesJson(service, tail.lines));
    log.add(stream, view);
    stream.onClose(() => {
      if (log.remove(stream) > 0) return;
      log.close();
      if (this.logs.get(file) === log) this.logs.delete(file);
      if (this.logs.size === 0) {
        clearInterval(this.poll);
        this.poll = undefined;
      }
    });
  }

  /** How many files are read now (one per followed log, not per stream). */
  get followedFiles(): number {
    return this.logs.size;
  }
}

interface Follower {
  view: LogView;
  /** Lines not sent while the client lagged. */
  skipped: number;
}

class SharedLog {
  private readonly streams = new Map<EventStream, Follower>();
  private readonly follower: LogFollower;

  constructor(
    file: string,
    private readonly service: string,
    from: LogPosition,
    private readonly maxBacklog: number,
    pollMs: number,
  ) {
    // A check reads at most what LogFollower's own (256 KiB per 100 ms) would over the same time: 2.5 MB/s.
    const maxBytesPerRead = Math.max(READ_PER_100_MS, Math.round((READ_PER_100_MS * pollMs) / 100));
    this.follower = new LogFollower(file, from, (lines) => this.publish(lines), { pollMs: 0, maxBytesPerRead });
  }

  pump(): void {
    this.follower.pump();
  }

  get position(): LogPosition {
    return this.follower.position;
  }

  add(stream: EventStream, view: LogView): void {
    this.streams.set(stream, { view, skipped: 0 });
  }

  /** Returns how many streams are left. */
  remove(stream: EventStream): number {
    this.streams.delete(stream);
    return this.streams.size;
  }

  close(): void {
    this.follower.close();
  }

  private publish(lines: string[]): void {
    // One event per view for this batch, shared by every stream of that view (most often: one, every line).
    const frames = new Map<string, { frame: Buffer | undefined; lines: number }>();
    for (const [stream, follower] of this.streams) {
      if (stream.closed) continue;
      const key = `${follower.view.latest ?? ''}\n${follower.view.query ?? ''}`;
      let batch = frames.get(key);
      if (!batch) {
        batch = this.batchFor(lines, follower.view);
        frames.set(key, batch);
      }
      if (!batch.frame) continue;
      if (stream.backlog() > this.maxBacklog) {
        follower.skipped += batch.lines;
        continue;
      }
      if (follower.skipped > 0) {
        stream.sendRaw('skipped', `{"lines":${follower.skipped},"reason":"slow"}`);
        follower.skipped = 0;
      }
      stream.sendFrame(batch.frame);
    }
  }

  /** The event(s) a view gets for a batch (none when nothing of it matches), and how many lines they stand for. */
  private batchFor(lines: string[], view: LogView): { frame: Buffer | undefined; lines: number } {
    const shown = matching(lines, view.query);
    if (shown.length === 0) return { frame: undefined, lines: 0 };
    const left = view.latest !== undefined && shown.length > view.latest ? shown.length - view.latest : 0;
    const events = left > 0 ? [eventFrame('skipped', `{"lines":${left},"reason":"latest"}`)] : [];
    for (const part of eventSized(left > 0 ? shown.slice(left) : shown)) events.push(eventFrame('lines', linesJson(this.service, part)));
    return { frame: events.length === 1 ? events[0] : Buffer.concat(events), lines: shown.length };
  }
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
 * `JSON.stringify(logLines(service, lines))` (runner/log-file.ts), written out without the objects: the proxy makes 20,000 of these
 * a second when 20 busy logs are followed, and this takes about half the time of an object per line serialised.
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
