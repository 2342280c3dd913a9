import { statSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { lowerThreadPriority } from '../platform/thread-priority.js';
import { LogFollower, type LogPosition } from '../runner/log-reader.js';
import { batchEvents, LatestLines, viewKey, viewTail, type LogView, type ViewBatch } from './log-batches.js';
import { eventText } from './sse.js';

/**
 * The dashboard's log reading, on a thread of its own (`LogHub` starts it): every followed file is read here, its
 * lines split and made into the events each view gets, so 20 busy logs followed (20,000 lines a second) never hold
 * up the proxy's event loop, nor fill its heap. The proxy's thread only writes the events it is handed.
 *
 * The thread runs 10 nice levels below the proxy's (`READER_NICE_STEPS`): when the machine's cores are all busy,
 * forwarding requests comes first and the logs catch up after (their lines wait in the files, nothing is lost). The
 * reading is a few percent of a core at most, which that priority still gets on a loaded machine.
 */

export interface WorkerOptions {
  pollMs: number;
}

export type ToWorker =
  /** A stream wants `file` (its tail of `count` lines, then each batch) in `view`; answered by `joined`. */
  | { op: 'join'; id: number; file: string; service: string; count: number; view: LogView }
  | { op: 'leave'; id: number }
  /** The proxy's thread has written the last `batches`: the next check may read on. */
  | { op: 'taken' };

export type FromWorker =
  /**
   * Stream `id`'s tail, up to where the file's reader is: every later batch's events follow it without a gap.
   * `held`: what its view held back (`LatestLines`) of lines before that point, for the streams of `file` already
   * there (theirs even if stream `id` is gone by now).
   */
  | { op: 'joined'; id: number; file: string; events: string[]; held?: ViewEvents }
  /** Stream `id`'s log cannot be read (a folder where the file should be): that stream ends, the others go on. */
  | { op: 'failed'; id: number }
  /**
   * One check's events: per file, those of each view (by `viewKey`) with the lines it read, or a `latest` view's
   * that came due, and how many lines they stand for.
   */
  | { op: 'batches'; batches: Array<{ file: string; views: ViewEvents[] }> };

/**
 * A view's events for one batch, each at most ~64 KB. Handed over as strings, not bytes: a string of that size is
 * copied into the proxy's young generation and dies there at no cost, where bytes would be memory outside its heap,
 * whose churn (5 MB/s for 20 busy logs) set off a full collection of the proxy's heap every few seconds.
 */
export interface ViewEvents extends ViewBatch {
  /** The view's `viewKey`. */
  key: string;
}

const READ_PER_100_MS = 256 * 1024;
const READER_NICE_STEPS = 10;

lowerThreadPriority(READER_NICE_STEPS);

const port = parentPort!;
const { pollMs } = workerData as WorkerOptions;
const files = new Map<string, FileReader>();
const members = new Map<number, { file: string; view: LogView }>();
/** One timer checks every followed file, and one message carries what they all had. */
let poll: NodeJS.Timeout | undefined;
/**
 * A `batches` message not yet written by the proxy's thread. While one is, checks read nothing: the lines wait in
 * their files, as they would for a proxy too busy to read them itself, rather than in messages queued without bound.
 */
let waiting = false;

port.on('message', (message: ToWorker) => {
  if (message.op === 'taken') return void (waiting = false);
  if (message.op === 'leave') return leave(message.id);
  try {
    join(message);
  } catch {
    port.postMessage({ op: 'failed', id: message.id } satisfies FromWorker);
  }
});

function join({ id, file, service, count, view }: Extract<ToWorker, { op: 'join' }>): void {
  let reader = files.get(file);
  if (!reader && !isFileOrMissing(file)) throw new Error(`${file} is not a file`);
  // The lines before where the file's reader is: the stream gets everything after from it, nothing twice.
  const tail = viewTail(file, count, view.query, reader?.position);
  if (!reader) {
    reader = new FileReader(file, service, tail.position);
    files.set(file, reader);
    poll ??= setInterval(check, pollMs);
  }
  const held = reader.addView(view);
  members.set(id, { file, view });
  const events = tail.lines.length > 0 ? batchEvents(service, tail.lines, undefined).events : [eventText('lines', '[]')];
  port.postMessage({ op: 'joined', id, file, events, ...(held && { held }) } satisfies FromWorker);
}

function leave(id: number): void {
  const member = members.get(id);
  if (!member) return;
  members.delete(id);
  const reader = files.get(member.file)!;
  if (reader.removeView(member.view)) return;
  reader.close();
  files.delete(member.file);
  if (files.size === 0) {
    clearInterval(poll);
    poll = undefined;
  }
}

function check(): void {
  if (waiting) return;
  const batches: Extract<FromWorker, { op: 'batches' }>['batches'] = [];
  for (const [file, reader] of files) {
    const views = reader.read();
    if (views.length > 0) batches.push({ file, views });
  }
  if (batches.length === 0) return;
  waiting = true;
  port.postMessage({ op: 'batches', batches } satisfies FromWorker);
}

/** A log file, or none yet (a service that has not printed): the follower waits for it. */
function isFileOrMissing(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return true;
  }
}

/** One file's reader, and the views its streams want of it (counted: several streams may share one). */
class FileReader {
  private readonly views = new Map<string, { view: LogView; streams: number; latest: LatestLines | undefined }>();
  private readonly follower: LogFollower;
  private events: ViewEvents[] = [];

  constructor(
    file: string,
    private readonly service: string,
    from: LogPosition,
  ) {
    // A check reads at most what LogFollower's own (256 KiB per 100 ms) would over the same time: 2.5 MB/s.
    const maxBytesPerRead = Math.max(READ_PER_100_MS, Math.round((READ_PER_100_MS * pollMs) / 100));
    this.follower = new LogFollower(file, from, (lines) => this.publish(lines), { pollMs: 0, maxBytesPerRead });
  }

  get position(): LogPosition {
    return this.follower.position;
  }

  /**
   * Counts one more stream of `view`; returns what the view held back for the streams it had: lines before the new
   * stream's tail position, theirs alone, sent now.
   */
  addView(view: LogView): ViewEvents | undefined {
    const key = viewKey(view);
    const known = this.views.get(key);
    if (!known) {
      this.views.set(key, { view, streams: 1, latest: view.latest === undefined ? undefined : new LatestLines(this.service, view.latest, view.query) });
      return undefined;
    }
    known.streams++;
    const held = known.latest?.take(performance.now(), Infinity);
    return held && { key, ...held };
  }

  /** Returns whether any stream is left (a view is kept while a stream wants it). */
  removeView(view: LogView): boolean {
    const key = viewKey(view);
    const known = this.views.get(key)!;
    if (--known.streams === 0) this.views.delete(key);
    return this.views.size > 0;
  }

  /**
   * The events of what was appended since the last check, one per view that has lines in it; a `latest` view's
   * when they are due (half a check early is on time).
   */
  read(): ViewEvents[] {
    this.follower.pump();
    const now = performance.now();
    for (const [key, { latest }] of this.views) {
      const due = latest?.take(now, pollMs / 2);
      if (due) this.events.push({ key, ...due });
    }
    const events = this.events;
    this.events = [];
    return events;
  }

  close(): void {
    this.follower.close();
  }

  private publish(lines: string[]): void {
    for (const [key, { view, latest }] of this.views) {
      if (latest) {
        latest.add(lines);
        continue;
      }
      const batch = batchEvents(this.service, lines, view.query);
      if (batch.events.length > 0) this.events.push({ key, ...batch });
    }
  }
}
