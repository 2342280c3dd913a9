import type { Request, Response } from 'express';
import { logLines, type LogHub } from './log-hub.js';
import { lastLines } from './log-reader.js';
import { openEventStream } from './sse.js';

/**
 * `GET …/logs?n=200&follow=1`: the last `n` lines of a service's log as JSON, or, with `follow`, as server-sent
 * events: one `lines` event with the tail, then one per batch of new lines (see `LogHub`). A line is
 * `logs --json`'s object, `{service, time, text}`.
 */

const DEFAULT_LINES = 200;
const MAX_LINES = 5_000;

export function parseLineCount(value: unknown): number | string {
  if (value === undefined || value === '') return DEFAULT_LINES;
  const n = typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n > MAX_LINES) return `n must be a whole number from 0 to ${MAX_LINES} (got ${JSON.stringify(value)})`;
  return n;
}

export function sendLogs(req: Request, res: Response, hub: LogHub, file: string, about: { service: string } & Record<string, unknown>): void {
  const count = parseLineCount(req.query.n);
  if (typeof count === 'string') {
    res.status(400).json({ status: 400, error: 'bad-request', message: count });
    return;
  }
  const follow = req.query.follow === '1' || req.query.follow === 'true';
  if (follow) return hub.follow(file, about.service, count, openEventStream(req, res));
  res.json({ ...about, lines: logLines(about.service, lastLines(file, count).lines) });
}
