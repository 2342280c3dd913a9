import type { Readable } from 'node:stream';
import type { ServiceSpec } from '../config/project-config.js';
import { stripAnsi } from '../platform/ansi.js';
import type { EventSink } from './events.js';
import type { LogFile } from './log-file.js';
import { LineSplitter, RecentLines } from './log-lines.js';
import type { ServiceProcess } from './spawn.js';

/**
 * What a service prints, line by line: kept in its log file, the last lines kept for failure messages, matched
 * against `ready.log` while it starts, and passed on as `log` events. Reading pauses while portbroker's own output
 * is blocked, so a chatty child blocks on its write instead of filling memory.
 */
export class ServiceOutput {
  private readonly recent: RecentLines;
  private logMatched: (() => void) | undefined;
  private paused = false;
  private streams: Readable[] = [];

  constructor(
    private readonly name: string,
    private readonly spec: ServiceSpec,
    private readonly logFile: LogFile,
    private readonly emit: EventSink,
    keep: number,
  ) {
    this.recent = new RecentLines(keep);
  }

  /** The last `count` lines it printed. */
  last(count: number): string[] {
    return this.recent.last(count);
  }

  /** With `ready.log`: resolves when a line printed from now on matches it. */
  nextLogMatch(): Promise<void> | undefined {
    if (!this.spec.ready.log) return undefined;
    return new Promise((resolve) => (this.logMatched = resolve));
  }

  /** Reads a newly spawned process's stdout and stderr. */
  attach(proc: ServiceProcess): void {
    this.streams = [];
    for (const stream of ['stdout', 'stderr'] as const) {
      const readable = proc.child[stream];
      if (!readable) continue;
      const splitter = new LineSplitter((line) => this.line(line, stream));
      readable.on('data', (chunk: Buffer) => splitter.push(chunk));
      readable.on('end', () => splitter.end());
      readable.on('error', () => undefined);
      if (this.paused) readable.pause();
      this.streams.push(readable);
    }
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
    for (const stream of this.streams) {
      if (paused) stream.pause();
      else stream.resume();
    }
  }

  private line(line: string, stream: 'stdout' | 'stderr'): void {
    this.recent.push(line);
    this.logFile.line(line);
    const pattern = this.spec.ready.log;
    if (this.logMatched && pattern) pattern.lastIndex = 0; // a /g pattern keeps state between tests
    if (this.logMatched && pattern?.test(stripAnsi(line))) {
      this.logMatched();
      this.logMatched = undefined;
    }
    this.emit({ type: 'log', service: this.name, line, stream });
  }
}
