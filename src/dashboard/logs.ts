import type { Request, Response } from 'express';
import { logLines } from '../runner/log-file.js';
import { viewTail, type LogView } from './log-batches.js';
import type { LogHub } from './log-hub.js';
import { openEventStream } from './sse.js';

/**
 * `GET …/logs?n=200&follow=1`: the last `n` lines of a service's log as JSON, or, with `follow`, as server-sent
 * events: `lines` events with the tail, then with each batch of new lines (see `LogHub`). A line is
 * `logs --json`'s object, `{service, time, text}`. `q=` keeps the lines whose text holds it (ignoring case),
 * looked for among the last 5,000; `latest=N` (following only) sends about one event a second, with the newest N
 * lines since the last.
 */

const DEFAULT_LINES = 200;
const MAX_LINES = 5_000;
const MAX_QUERY = 200;

/** A line-count parameter: a whole number from `least` to 5,000, or what is wrong with it. */
function lineCount(value: unknown, name: string, least: number): number | undefined | { problem: string } {
  if (value === undefined || value === '') return undefined;
  const n = typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n > MAX_LINES) return { problem: `${name} must be a whole number from ${least} to ${MAX_LINES} (got ${JSON.stringify(value)})` };
  if (n < least) return { problem: `${name} must be at least ${least} (got ${n}); leave it out for every line` };
  return n;
}

/** The request's `n`, `q` and `latest`, or what is wrong with them. */
function parseLogRequest(query: Request['query']): { count: number; view: LogView } | { problem: string } {
  const count = lineCount(query.n, 'n', 0) ?? DEFAULT_LINES;
  if (typeof count === 'object') return count;
  const latest = lineCount(query.latest, 'latest', 1);
  if (typeof latest === 'object') return latest;
  const q = query.q;
  if (q !== undefined && typeof q !== 'string') return { problem: `q must be one text (given ${Array.isArray(q) ? `${q.length} times` : 'as a structure'}); give it once, as q=<text>` };
  if (q !== undefined && q.length > MAX_QUERY) return { problem: `q must be one text of at most ${MAX_QUERY} characters (got ${q.length})` };
  return { count, view: { ...(q ? { query: q } : {}), ...(latest !== undefined ? { latest } : {}) } };
}

export function sendLogs(req: Request, res: Response, hub: LogHub, file: string, about: { service: string } & Record<string, unknown>): void {
  const asked = parseLogRequest(req.query);
  if ('problem' in asked) {
    res.status(400).json({ status: 400, error: 'bad-request', message: asked.problem });
    return;
  }
  const { count, view } = asked;
  const follow = req.query.follow === '1' || req.query.follow === 'true';
  if (follow) {
    const problem = hub.unavailable();
    if (problem) return void res.status(503).json({ status: 503, error: 'restart-needed', message: problem });
    return hub.follow(file, about.service, count, openEventStream(req, res), view);
  }
  res.json({ ...about, lines: logLines(about.service, viewTail(file, count, view.query).lines) });
}
