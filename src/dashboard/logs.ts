import type { Request, Response } from 'express';
import { parseLogLine } from '../runner/log-file.js';
import { lastLines, LogFollower } from './log-reader.js';
import { openEventStream } from './sse.js';

/**
 * `GET …/logs?n=200&follow=1`: the last `n` lines of a service's log as JSON, or, with `follow`, as server-sent
 * events: one `lines` event with the tail, then one per batch of new lines. A line is `logs --json`'s object,
 * `{service, time, text}`.
 */

const DEFAULT_LINES = 200;
const MAX_LINES = 5_000;

export function parseLineCount(value: unknown): number | string {
  if (value === undefined || value === '') return DEFAULT_LINES;
  const n = typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n > MAX_LINES) return `n must be a whole number from 0 to ${MAX_LINES} (got ${JSON.stringify(value)})`;
  return n;
}

export function sendLogs(req: Request, res: Response, file: string, about: { service: string } & Record<string, unknown>): void {
  const toLines = (raw: string[]) => raw.map((line) => ({ service: about.service, ...parseLogLine(line) }));
  const count = parseLineCount(req.query.n);
  if (typeof count === 'string') {
    res.status(400).json({ status: 400, error: 'bad-request', message: count });
    return;
  }
  const tail = lastLines(file, count);
  const follow = req.query.follow === '1' || req.query.follow === 'true';
  if (!follow) {
    res.json({ ...about, lines: toLines(tail.lines) });
    return;
  }
  const stream = openEventStream(req, res);
  stream.send('lines', toLines(tail.lines));
  // A client that does not keep up is sent nothing more until its backlog is under 1 MiB; its lines wait in the file.
  const follower = new LogFollower(file, tail.position, (lines) => void stream.send('lines', toLines(lines)), { canTakeMore: () => res.writableLength < 1024 * 1024 });
  stream.onClose(() => follower.close());
}
