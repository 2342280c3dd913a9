import { closeSync, fstatSync, mkdirSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { keepColours } from '../platform/ansi.js';

/**
 * A service's log file in the state folder (`serviceLogFile`): every line it prints, each after the time it was
 * read (`2026-11-30T12:00:00.000Z <line>`, for `logs --since` and `--timestamps`), with its colours (SGR codes: the
 * dashboard renders them, `logs` keeps them on a terminal) but no other escape code (cursor moves, titles),
 * plus portbroker's own notes (start, exit) marked `[portbroker]`. The proxy's 502 page shows its tail. Capped:
 * past `maxBytes` it is renamed to `<file>.1` (replacing the previous one) and a new file begins, so a chatty
 * service never fills the disk.
 *
 * Writes are synchronous appends of whole batches: a few per second per service, each far below a page, and
 * nothing is lost when portbroker is killed right after a line. A `shared` file may have two writers (an `up` and a
 * `run` of one checkout share the supervisor's log): its cap counts the file's size (a stat per batch), not what
 * this one wrote, and a writer follows the rotation the other did. A service's log has one writer, which counts
 * what it wrote.
 */
export class LogFile {
  private fd: number | undefined;
  /** The file `fd` appends to: once the path names another, another writer rotated it. */
  private ino = 0;
  /** The file's size after this writer's last batch (a shared file's is stat'ed instead). */
  private size = 0;
  private pending: string[] = [];
  private scheduled = false;
  private broken = false;

  private readonly maxBytes: number;
  private readonly shared: boolean;

  constructor(
    readonly file: string,
    { maxBytes = 1024 * 1024, shared = false }: { maxBytes?: number; shared?: boolean } = {},
  ) {
    this.maxBytes = maxBytes;
    this.shared = shared;
  }

  line(text: string): void {
    this.pending.push(`${new Date().toISOString()} ${keepColours(text)}`);
    this.schedule();
  }

  note(text: string): void {
    this.line(`[portbroker] ${text}`);
  }

  /** Writes what is buffered now (called on stop, so the last lines are on disk before the state changes). */
  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0 || this.broken) {
      this.pending = [];
      return;
    }
    const data = `${this.pending.join('\n')}\n`;
    this.pending = [];
    try {
      let size = this.shared || this.fd === undefined ? this.currentSize() : this.size;
      if (size > 0 && size + Buffer.byteLength(data) > this.maxBytes) size = this.rotate();
      this.size = size + writeSync(this.fd!, data);
    } catch {
      // A full disk or a removed state folder must not stop the service; the terminal still shows its output.
      this.broken = true;
    }
  }

  /** Starts a new file at the same path (the old one was deleted with the state folder). */
  reopen(): void {
    this.closeFile();
    this.broken = false;
  }

  close(): void {
    this.flush();
    this.closeFile();
  }

  private closeFile(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /**
   * The size of the file being written, opened first when the path names another one (or none was opened). A path
   * naming none (the state folder deleted) is not recreated here: the session restores the folder once it sees it
   * gone, then calls `reopen`.
   */
  private currentSize(): number {
    const stat = statSync(this.file, { throwIfNoEntry: false });
    if (this.fd === undefined || (stat && stat.ino !== this.ino)) return this.open();
    return stat ? stat.size : fstatSync(this.fd).size;
  }

  /** Opens the file at the path for appending; its size. */
  private open(): number {
    this.closeFile();
    mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    this.fd = openSync(this.file, 'a', 0o600);
    const stat = fstatSync(this.fd);
    this.ino = stat.ino;
    return stat.size;
  }

  /**
   * Two writers past the cap at the same moment (between one's stat and its rename) could both rotate: older lines
   * would go a rotation early and a batch land in `.1`. The window is microseconds, once per cap's worth of lines.
   */
  private rotate(): number {
    renameSync(this.file, `${this.file}.1`);
    return this.open();
  }
}

const STAMPED = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) /;
/** The time before a log file's line, with the space after it: `2026-11-30T12:00:00.000Z `. */
export const STAMP_LENGTH = 25;

/** Whether a log file's line begins with the time portbroker wrote (`parseLogLine` without building an object). */
export function isStamped(line: string): boolean {
  return STAMPED.test(line);
}

/** A line of a log file: when it was written (null for a line without a time) and its text. */
export function parseLogLine(line: string): { time: string | null; text: string } {
  const match = STAMPED.exec(line);
  return match ? { time: match[1]!, text: line.slice(match[0].length) } : { time: null, text: line };
}

/** Lines of a log file as `logs --json` and the dashboard's API give them. */
export function logLines(service: string, lines: string[]): Array<{ service: string; time: string | null; text: string }> {
  return lines.map((line) => ({ service, ...parseLogLine(line) }));
}

/** A log file's line as the service printed it, without the time portbroker wrote before it. */
export function logText(line: string): string {
  return STAMPED.test(line) ? line.slice(STAMP_LENGTH) : line;
}
