import { followLogs, logs, type LogLine } from '../../commands/logs.js';
import { UsageError } from '../../errors.js';
import { printJson } from '../output.js';
import { common, type CliOptions } from '../run.js';
import { SessionView } from '../session-view.js';

/** `portbroker logs`: lines prefixed and coloured as `up` prints them, or JSON (one object per line with -f). */
export default async function main([services]: unknown[], options: CliOptions) {
  const names = (services as string[] | undefined) ?? [];
  const request = { ...common(options), lines: lineCount(options.lines), since: options.since as string | undefined };
  const json = options.json === true;
  if (!options.follow) {
    const lines = await logs(names, request);
    if (json) return printJson(lines);
    const view = viewFor([...new Set(lines.map((l) => l.service))], options);
    show(view, lines);
    view.close();
    return;
  }
  let view: SessionView | undefined;
  const pending: LogLine[] = [];
  const abort = new AbortController();
  const following = await followLogs(names, {
    ...request,
    signal: abort.signal,
    onLines: (lines) => {
      if (json) for (const line of lines) process.stdout.write(`${JSON.stringify(line)}\n`);
      else if (view) show(view, lines);
      else pending.push(...lines);
    },
  });
  if (!json) {
    view = viewFor(following.services, options);
    show(view, pending.splice(0));
  }
  // The followers hold nothing that keeps a process alive (a library must not): the command does, until Ctrl-C.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => resolve());
    process.stdout.once('error', () => resolve()); // `logs -f | head`: the reader went away
  });
  clearInterval(keepAlive);
  abort.abort();
  view?.close();
}

function viewFor(services: string[], options: CliOptions): SessionView {
  return new SessionView({ services, timestamps: options.timestamps === true });
}

function show(view: SessionView, lines: LogLine[]): void {
  for (const l of lines) view.handle({ type: 'log', service: l.service, line: l.text, stream: 'stdout', time: l.time ?? undefined });
}

function lineCount(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (value === 'all') return Infinity;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`-n: "${String(value)}" is not a number of lines`, ['give a whole number (-n 50), or -n all']);
  return n;
}
