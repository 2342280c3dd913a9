import { stripAnsi } from '../platform/ansi.js';
import { isStamped, STAMP_LENGTH } from '../runner/log-file.js';
import { lastLines, LogFollower, type LogPosition } from './log-reader.js';
import { eventFrame, type EventStream } from './sse.js';

export interface LogHubOptions {
  /**
   * How often each followed file is checked for new lines (default 250 ms): at most one event per file per check.
   * Each event costs the proxy a socket write and the page a message and a layout, whatever its size: at 1,000
   * lines/s, 250 ms instead of 100 ms took a third off both (the proxy's and Chromium's CPU), and a log line
   * a quarter of a second late is still live to a reader.
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
   * At most this many lines, the newest, in at most one event every LATEST_EVERY_MS: for a page that shows the end
   * of a busy log, which cannot display more and should not parse what it would drop. The lines left out are
   * counted in `event: skipped`.
   */
  latest?: number;
}

/**
 * A `latest` view's events come at most this often: twice a second is as often as a busy log's end is worth
 * drawing, and each event costs the proxy a write and the browser a message, a parse and a layout.
 */
const LATEST_EVERY_MS = 500;

/** Lines a view leaves out of the tail it starts with are looked for this far back (with a `query`). */
const QUERY_TAIL_LINES = 5_000;

/**
 * Every open log stream of the dashboard, with one reader per log file however many pages follow it: each batch
 * of new lines is read once, made into one `lines` event once per view (every line, or a page's `latest`/`query`),
 * and the same bytes written to every stream of that view.
 *
 * A stream whose client does not keep up (more than `maxBacklog` bytes written but not taken) is skipped rather
 * than buffered without bound; once it has caught up it gets `event: skipped` with the number of lines it missed
 * (`{"lines": N, "reason": "slow"}`), then the new lines. The log file keeps them all.
 */
export class LogHub {
  private readonly logs = new Map<string, SharedLog>();
  private readonly maxBacklog: number;
  /**
   * One timer checks every followed file: the writes of a check go out together, so a reader of several streams
   * (and the kernel) wakes once per check rather than once per file.
   */
  private poll: NodeJS.Timeout | undefined;

  constructor(private readonly options: LogHubOptions = {}) {
    this.maxBacklog = options.maxBacklog ?? 1024 * 1024;
  }

  /** Sends `stream` the last `count` lines of `service`'s log `file` (of its view), then each batch of new lines until it closes. */
  follow(file: string, service: string, count: number, stream: EventStream, view: LogView = {}): void {
    let log = this.logs.get(file);
    // The lines before where the shared reader is: the stream gets everything after from it, nothing twice.
    const tail = lastLines(file, view.query && count > 0 ? QUERY_TAIL_LINES : count, log?.position);
    if (!log) {
      log = new SharedLog(file, service, tail.position, this.maxBacklog);
      this.logs.set(file, log);
      this.poll ??= setInterval(() => this.logs.forEach((shared) => shared.pump()), this.options.pollMs ?? 250).unref();
    }
    stream.sendRaw('lines', linesJson(service, count === 0 ? [] : matching(tail.lines, view.query).slice(-count)));
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
  /** A `latest` view's: the newest lines waiting for their event, how many were dropped for them, the last send. */
  held: string[];
  dropped: number;
  sentAt: number;
}

class SharedLog {
  private readonly streams = new Map<EventStream, Follower>();
  private readonly follower: LogFollower;

  constructor(
    file: string,
    private readonly service: string,
    from: LogPosition,
    private readonly maxBacklog: number,
  ) {
    this.follower = new LogFollower(file, from, (lines) => this.publish(lines), { pollMs: 0 });
  }

  pump(): void {
    this.follower.pump();
    this.sendHeld();
  }

  get position(): LogPosition {
    return this.follower.position;
  }

  add(stream: EventStream, view: LogView): void {
    this.streams.set(stream, { view, skipped: 0, held: [], dropped: 0, sentAt: 0 });
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
      if (follower.view.latest !== undefined) {
        hold(follower, matching(lines, follower.view.query), follower.view.latest);
        continue;
      }
      const key = follower.view.query ?? '';
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
      sendSkipped(stream, follower);
      stream.sendFrame(batch.frame);
    }
  }

  /** Each `latest` view's held lines whose time has come: the newest, after the count of those left out. */
  private sendHeld(): void {
    const now = performance.now();
    for (const [stream, follower] of this.streams) {
      if (stream.closed || follower.held.length === 0 || now - follower.sentAt < LATEST_EVERY_MS) continue;
      const { held, dropped } = follower;
      follower.held = [];
      follower.dropped = 0;
      if (stream.backlog() > this.maxBacklog) {
        follower.skipped += held.length + dropped;
        continue;
      }
      sendSkipped(stream, follower);
      if (dropped > 0) stream.sendRaw('skipped', `{"lines":${dropped},"reason":"latest"}`);
      stream.sendRaw('lines', linesJson(this.service, held));
      follower.sentAt = now;
    }
  }

  /** The event a view of every line (or of a search) gets for a batch (none when nothing matches), and its lines. */
  private batchFor(lines: string[], view: LogView): { frame: Buffer | undefined; lines: number } {
    const shown = matching(lines, view.query);
    return { frame: shown.length > 0 ? eventFrame('lines', linesJson(this.service, shown)) : undefined, lines: shown.length };
  }
}

/** Adds a batch's lines to a `latest` view's held ones, keeping the newest `latest`. */
function hold(follower: Follower, lines: string[], latest: number): void {
  if (lines.length >= latest) {
    follower.dropped += follower.held.length + lines.length - latest;
    follower.held = lines.slice(-latest);
    return;
  }
  follower.held.push(...lines);
  const excess = follower.held.length - latest;
  if (excess > 0) {
    follower.held.splice(0, excess);
    follower.dropped += excess;
  }
}

function sendSkipped(stream: EventStream, follower: Follower): void {
  if (follower.skipped === 0) return;
  stream.sendRaw('skipped', `{"lines":${follower.skipped},"reason":"slow"}`);
  follower.skipped = 0;
}

/** The lines whose text (after the time, without colour codes) holds `query`, ignoring case; all of them without one. */
export function matching(lines: string[], query: string | undefined): string[] {
  if (!query) return lines;
  const wanted = query.toLowerCase();
  return lines.filter((line) => stripAnsi(isStamped(line) ? line.slice(STAMP_LENGTH) : line).toLowerCase().includes(wanted));
}

/** Lines of a log file as the API gives them: `logs --json`'s objects. */
export function logLines(service: string, lines: string[]): Array<{ service: string; time: string | null; text: string }> {
  return lines.map((line) => (isStamped(line) ? { service, time: line.slice(0, STAMP_LENGTH - 1), text: line.slice(STAMP_LENGTH) } : { service, time: null, text: line }));
}

/**
 * `JSON.stringify(logLines(service, lines))`, written out without the objects: the proxy makes 20,000 of these
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
