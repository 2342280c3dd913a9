import { parseLogLine } from '../runner/log-file.js';
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

/**
 * Every open log stream of the dashboard, with one reader per log file however many pages follow it: each batch
 * of new lines is read once, made into one `lines` event once, and the same bytes written to every stream.
 *
 * A stream whose client does not keep up (more than `maxBacklog` bytes written but not taken) is skipped rather
 * than buffered without bound; once it has caught up it gets `event: skipped` with the number of lines it missed
 * (`{"lines": N}`), then the new lines. The log file keeps them all.
 */
export class LogHub {
  private readonly logs = new Map<string, SharedLog>();
  private readonly maxBacklog: number;

  constructor(private readonly options: LogHubOptions = {}) {
    this.maxBacklog = options.maxBacklog ?? 1024 * 1024;
  }

  /** Sends `stream` the last `count` lines of `service`'s log `file`, then each batch of new lines until it closes. */
  follow(file: string, service: string, count: number, stream: EventStream): void {
    let log = this.logs.get(file);
    let tail: string[];
    if (log) {
      // The lines before where the shared reader is: the stream gets everything after from it, nothing twice.
      tail = lastLines(file, count, log.position).lines;
    } else {
      const start = lastLines(file, count);
      tail = start.lines;
      log = new SharedLog(file, service, start.position, this.maxBacklog, this.options.pollMs ?? 250);
      this.logs.set(file, log);
    }
    stream.sendRaw('lines', linesJson(service, tail));
    log.add(stream);
    stream.onClose(() => {
      if (log.remove(stream) > 0) return;
      log.close();
      if (this.logs.get(file) === log) this.logs.delete(file);
    });
  }

  /** How many files are read now (one per followed log, not per stream). */
  get followedFiles(): number {
    return this.logs.size;
  }
}

class SharedLog {
  /** Each stream, with the lines it was not sent while it lagged. */
  private readonly streams = new Map<EventStream, number>();
  private readonly follower: LogFollower;

  constructor(
    file: string,
    private readonly service: string,
    from: LogPosition,
    private readonly maxBacklog: number,
    pollMs: number,
  ) {
    this.follower = new LogFollower(file, from, (lines) => this.publish(lines), { pollMs });
  }

  get position(): LogPosition {
    return this.follower.position;
  }

  add(stream: EventStream): void {
    this.streams.set(stream, 0);
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
    let frame: Buffer | undefined;
    for (const [stream, skipped] of this.streams) {
      if (stream.closed) continue;
      if (stream.backlog() > this.maxBacklog) {
        this.streams.set(stream, skipped + lines.length);
        continue;
      }
      if (skipped > 0) {
        stream.sendRaw('skipped', `{"lines":${skipped}}`);
        this.streams.set(stream, 0);
      }
      stream.sendFrame((frame ??= eventFrame('lines', linesJson(this.service, lines))));
    }
  }
}

/** Lines of a log file as the API gives them: `logs --json`'s objects. */
export function logLines(service: string, lines: string[]): Array<{ service: string; time: string | null; text: string }> {
  return lines.map((line) => {
    const { time, text } = parseLogLine(line);
    return { service, time, text };
  });
}

function linesJson(service: string, lines: string[]): string {
  return JSON.stringify(logLines(service, lines));
}
