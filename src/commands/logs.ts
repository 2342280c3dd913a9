import { lastLines, LogFollower } from '../runner/log-reader.js';
import { UsageError } from '../errors.js';
import { serviceLogFile, supervisorLogFile } from '../platform/paths.js';
import { openProject, type CommonOptions, type Project } from '../project/open.js';
import { logLines } from '../runner/log-file.js';
import { namedServices } from './control.js';

/** One line of a service's log: the object `logs --json` prints (one per line). */
export interface LogLine {
  service: string;
  /** When portbroker read it (ISO); null for a line written before times were recorded. */
  time: string | null;
  text: string;
}

export interface LogsOptions extends CommonOptions {
  /** Lines per service (default 200; `Infinity` for all the log files hold). */
  lines?: number;
  /** Only lines from this moment on: a duration back from now (`90s`, `5m`, `2h`, `1d`) or an ISO time. */
  since?: string | Date;
}

export interface LogFollowOptions extends LogsOptions {
  /** Called with each batch of lines: first the tail, then new lines as they are written. */
  onLines: (lines: LogLine[]) => void;
  /** Ends the following. */
  signal?: AbortSignal;
}

const DEFAULT_LINES = 200;

/**
 * Beside each service's stream, `portbroker`: what the supervising `up`/`run` itself said (config edits applied or
 * refused, stops), kept in its own file (`supervisorLogFile`). No service can have that name (it is reserved).
 */
const SUPERVISOR_STREAM = 'portbroker';

/**
 * `portbroker logs [service…]`: the last lines of each named service (every service without names), read from
 * the log files the runner writes (`<state>/logs/<project>/<service>.log`, and the `.1` it rotated), merged
 * in time order. Works whether or not the project runs.
 */
export async function logs(services: string[] = [], options: LogsOptions = {}): Promise<LogLine[]> {
  const { project, names } = await target(services, options);
  return tails(project, names, options).lines;
}

/**
 * `portbroker logs -f`: the tail, then every new line of the named services as it is written, across
 * rotation, until `signal` aborts. Resolves once following has begun.
 */
export async function followLogs(services: string[], options: LogFollowOptions): Promise<{ services: string[]; close(): void }> {
  const { project, names } = await target(services, options);
  return follow(project, names, options);
}

/**
 * What an attaching `up` shows: new lines of `services` and of the supervisor's own stream (a config edit applied
 * or refused there), of a project already open (the config may have changed since).
 */
export function followSupervision(project: Project, services: string[], options: LogFollowOptions): { services: string[]; close(): void } {
  return follow(project, [...new Set([...services, SUPERVISOR_STREAM])], options);
}

function follow(project: Project, names: string[], options: LogFollowOptions): { services: string[]; close(): void } {
  const { lines, positions } = tails(project, names, options);
  options.onLines(lines);
  const followers = names.map(
    (name) =>
      new LogFollower(logFile(project, name), positions.get(name)!, (raw) => {
        options.onLines(logLines(name, raw));
      }),
  );
  const close = () => followers.forEach((f) => f.close());
  options.signal?.addEventListener('abort', close, { once: true });
  return { services: names, close };
}

/** The streams to read: those named (`portbroker` may be one), or every service with a command and the supervisor's. */
async function target(requested: string[], options: LogsOptions): Promise<{ project: Project; names: string[] }> {
  const project = await openProject(options);
  const { config } = project;
  if (requested.length === 0) return { project, names: [...config.order.filter((n) => config.services[n]!.command), SUPERVISOR_STREAM] };
  const services = namedServices(project, [...new Set(requested.filter((name) => name !== SUPERVISOR_STREAM))]);
  return { project, names: requested.includes(SUPERVISOR_STREAM) ? [...services, SUPERVISOR_STREAM] : services };
}

function logFile(project: Project, stream: string): string {
  const { home } = project.settings;
  const { project: name, label } = project.checkout;
  return stream === SUPERVISOR_STREAM ? supervisorLogFile(home, name, label) : serviceLogFile(home, name, label, stream);
}

function tails(project: Project, names: string[], options: LogsOptions) {
  const since = options.since === undefined ? undefined : parseSince(options.since);
  const count = options.lines ?? (since === undefined ? DEFAULT_LINES : Infinity);
  if (!(count >= 0)) throw new UsageError(`-n: the number of lines must be 0 or more (got ${count})`);
  // With --since, everything the files hold is read (capped: a log is at most two 1 MB files), then filtered.
  const wanted = since === undefined && Number.isFinite(count) ? count : 1_000_000;
  const positions = new Map<string, ReturnType<typeof lastLines>['position']>();
  const perService = names.map((name) => {
    const tail = lastLines(logFile(project, name), wanted);
    positions.set(name, tail.position);
    let lines: LogLine[] = logLines(name, tail.lines);
    if (since !== undefined) lines = lines.filter((l) => l.time !== null && l.time >= since);
    return Number.isFinite(count) ? lines.slice(lines.length - count) : lines;
  });
  return { lines: mergeByTime(perService), positions };
}

/** Merges each service's lines (already in order) by time; a line without a time stays after its predecessor. */
function mergeByTime(lists: LogLine[][]): LogLine[] {
  if (lists.length === 1) return lists[0]!;
  const keyed = lists.flatMap((list, li) => {
    let last = '';
    return list.map((line, i) => {
      last = line.time ?? last;
      return { line, key: last, li, i };
    });
  });
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.li - b.li || a.i - b.i));
  return keyed.map((k) => k.line);
}

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since`: a duration back from now, or a time; as an ISO string, comparable with the logs' times. */
export function parseSince(value: string | Date, now = Date.now()): string {
  if (value instanceof Date) return value.toISOString();
  const duration = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(value.trim());
  if (duration) return new Date(now - Number(duration[1]) * UNITS[duration[2]!]!).toISOString();
  const time = Date.parse(value);
  if (/^\d{4}-\d\d-\d\d/.test(value) && !Number.isNaN(time)) return new Date(time).toISOString();
  throw new UsageError(`--since: "${value}" is neither a duration nor a time`, ['use a duration back from now (30s, 5m, 2h, 1d) or an ISO time (2026-11-30T12:00:00Z)']);
}
