import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { buildChange, RESTART_PROXY } from '../platform/build-stamp.js';
import { viewKey, type LogView } from './log-batches.js';
import type { FromWorker, ToWorker, ViewEvents, WorkerOptions } from './log-worker.js';
import type { EventStream } from './sse.js';

export type { LogView } from './log-batches.js';

export interface LogHubOptions {
  /**
   * How often each followed file is checked for new lines (default 500 ms): at most one event per file and view per
   * check (a `latest` view's: about once a second).
   * Each event costs the proxy a socket write, and the reader a wake-up (the page a message and a layout), whatever
   * its size: at 1,000 lines/s, each step from 100 to 250 to 500 ms took a large part off the proxy's, the
   * readers' and Chromium's CPU, and a log line half a second late is still live to a reader.
   */
  pollMs?: number;
  /** Bytes a client may leave untaken before it is skipped (default 1 MiB). */
  maxBacklog?: number;
  /** Where a failed reader thread is reported (default: the proxy's stderr, its log). */
  onWarning?: (message: string) => void;
}

/**
 * The built reader thread. Under the test runner this module is the TypeScript source, which a worker thread
 * cannot load: the tests run after the build (`npm test`) and use the built one, which must not be older.
 */
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER = FROM_SOURCE ? new URL('../../dist/dashboard/log-worker.js', import.meta.url) : new URL('./log-worker.js', import.meta.url);

function checkBuiltWorker(): void {
  const built = statSync(WORKER, { throwIfNoEntry: false });
  if (!built || built.mtimeMs < statSync(new URL('./log-worker.ts', import.meta.url)).mtimeMs) {
    throw new Error(`${fileURLToPath(WORKER)} is missing or older than its source: run npm run build (npm test does)`);
  }
}

/**
 * The reader thread's young generation: 24 MB semi-spaces (a third each), against 16 by default. A check of 20 busy
 * logs makes several MB of strings; with 16 MB a collection often began mid-check and copied, then promoted, what the
 * check held: a full collection every ~5 s, much of it on V8's helper threads, which do not run at the reader's
 * lower priority. With 24 MB collections come between checks. Both changes together (this and the join in
 * `log-batches.ts`), proxy following 20 logs at 1,000 lines/s: V8's helper threads 1.25% of a core → 0.36%. The
 * price: ~25–30 MB more RSS while logs are followed, freed when the thread ends (IDLE_MS after its last stream).
 */
const READER_YOUNG_MB = 72;

/** A thread left without streams ends after this long: a page that opens one log after another keeps one thread. */
const IDLE_MS = 10_000;

interface Member {
  readonly stream: EventStream;
  readonly key: string;
  /** Its tail was sent: from now on it gets every batch. */
  joined: boolean;
  /** Lines not sent while the client lagged. */
  skipped: number;
}

/**
 * Every open log stream of the dashboard, with one reader per log file however many streams follow it. The
 * reading, splitting and JSON happen on a thread of their own (`log-worker.ts`); each batch of new lines is made
 * into one event per view there (every line, or a page's `latest`/`query`), and this side writes the same events to
 * every stream of that view.
 *
 * A stream whose client does not keep up (more than `maxBacklog` bytes written but not taken) is skipped rather
 * than buffered without bound; once less than that waits again it gets `event: skipped` with the number of lines
 * it missed (`{"lines": N, "reason": "slow"}`), then the new lines. The log file keeps them all.
 */
export class LogHub {
  private readonly maxBacklog: number;
  private readonly pollMs: number;
  private readonly warn: (message: string) => void;
  /** The last failure reported: a thread that fails the same way again is not reported again. */
  private lastFailure = '';
  private worker: Worker | undefined;
  private idle: NodeJS.Timeout | undefined;
  private lastId = 0;
  private readonly members = new Map<number, Member>();
  private readonly files = new Map<string, Set<Member>>();

  constructor(options: LogHubOptions = {}) {
    this.maxBacklog = options.maxBacklog ?? 1024 * 1024;
    this.pollMs = options.pollMs ?? 500;
    this.warn = options.onWarning ?? ((message) => process.stderr.write(`portbroker proxy: ${message}\n`));
  }

  /** Sends `stream` the last `count` lines of `service`'s log `file` (of its view), then each batch of new lines until it closes. */
  follow(file: string, service: string, count: number, stream: EventStream, view: LogView = {}): void {
    const worker = this.thread();
    const id = ++this.lastId;
    const member: Member = { stream, key: viewKey(view), joined: false, skipped: 0 };
    this.members.set(id, member);
    const streams = this.files.get(file) ?? new Set();
    this.files.set(file, streams.add(member));
    worker.postMessage({ op: 'join', id, file, service, count, view } satisfies ToWorker);
    stream.onClose(() => {
      if (!this.members.delete(id)) return; // the thread failed: already let go
      streams.delete(member);
      if (streams.size === 0) this.files.delete(file);
      worker.postMessage({ op: 'leave', id } satisfies ToWorker);
      if (this.members.size > 0) return;
      clearTimeout(this.idle);
      this.idle = setTimeout(() => this.stop(), IDLE_MS).unref();
    });
  }

  /**
   * Why `follow` cannot serve a stream now, or undefined. A running thread serves on; a new one is only loaded
   * from the build this proxy started with.
   */
  unavailable(): string | undefined {
    return this.worker ? undefined : buildChange();
  }

  /** How many files are read now (one per followed log, not per stream). */
  get followedFiles(): number {
    return this.files.size;
  }

  /** Ends every stream and the reader thread. */
  close(): void {
    for (const { stream } of this.members.values()) stream.end();
    this.members.clear();
    this.files.clear();
    this.stop();
  }

  private thread(): Worker {
    clearTimeout(this.idle);
    if (this.worker) return this.worker;
    if (FROM_SOURCE) checkBuiltWorker();
    const worker = new Worker(WORKER, { workerData: { pollMs: this.pollMs } satisfies WorkerOptions, resourceLimits: { maxYoungGenerationSizeMb: READER_YOUNG_MB } });
    // The proxy's exit is not held up by it.
    worker.unref();
    worker.on('message', (message: FromWorker) => this.receive(message));
    // A failed reader ends its streams: each client's EventSource reconnects, to a new thread.
    const failed = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.close();
      if (why !== this.lastFailure) this.warn(`the dashboard's log reader thread failed (${why}); its log streams were cut and reconnect; if this repeats, restart the proxy (${RESTART_PROXY})`);
      this.lastFailure = why;
    };
    worker.on('error', (error) => failed(error.message));
    worker.once('exit', (code) => failed(`exit code ${code}`));
    this.worker = worker;
    return worker;
  }

  private stop(): void {
    clearTimeout(this.idle);
    const worker = this.worker;
    this.worker = undefined;
    void worker?.terminate();
  }

  private receive(message: FromWorker): void {
    if (message.op === 'failed') {
      this.members.get(message.id)?.stream.end();
      return;
    }
    if (message.op === 'joined') {
      // The others' held lines first, whether or not the new stream is still there.
      if (message.held) this.deliver(message.file, [message.held]);
      const member = this.members.get(message.id);
      if (!member) return;
      member.joined = true;
      member.stream.sendEvents(message.events);
      return;
    }
    for (const { file, views } of message.batches) this.deliver(file, views);
    this.worker?.postMessage({ op: 'taken' } satisfies ToWorker);
  }

  /** A batch of `file`'s views to their streams (those that have their tail), or counted as skipped for a slow one. */
  private deliver(file: string, views: readonly ViewEvents[]): void {
    const streams = this.files.get(file);
    if (!streams) return;
    for (const member of streams) {
      // Not joined yet: what this batch holds is in the tail it will get.
      if (!member.joined || member.stream.closed) continue;
      const batch = views.find((view) => view.key === member.key);
      if (!batch) continue;
      if (member.stream.backlog() > this.maxBacklog) {
        member.skipped += batch.lines;
        continue;
      }
      if (member.skipped > 0) {
        member.stream.sendRaw('skipped', `{"lines":${member.skipped},"reason":"slow"}`);
        member.skipped = 0;
      }
      member.stream.sendEvents(batch.events);
    }
  }
}
