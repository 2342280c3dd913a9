import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CrashPolicy } from '../../src/runner/crash-policy.js';
import { LogFile, logText, parseLogLine } from '../../src/runner/log-file.js';
import { stripAnsi } from '../../src/platform/ansi.js';
import { LineSplitter, RecentLines } from '../../src/runner/log-lines.js';
import { waitUntilReady } from '../../src/runner/readiness.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pb-runner-units-'));
const servers: net.Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

function serve(host: string, handler: http.RequestListener = (_q, r) => r.end('ok')): Promise<number> {
  const server = http.createServer(handler);
  servers.push(server);
  return new Promise((resolve) => server.listen({ host, port: 0, ipv6Only: host === '::1' }, () => resolve((server.address() as net.AddressInfo).port)));
}

async function unusedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const never = new AbortController().signal;

describe('waitUntilReady', () => {
  it('passes on a 2xx or 3xx answer to the http path, on 127.0.0.1 or ::1', async () => {
    const ok = await serve('127.0.0.1', (req, res) => res.writeHead(req.url === '/health' ? 204 : 404).end());
    expect(await waitUntilReady({ port: ok, ready: { http: '/health', timeoutMs: 2_000 }, signal: never })).toEqual({ ready: true, how: 'GET /health answered 204' });
    const redirect = await serve('::1', (_req, res) => res.writeHead(302, { location: '/login' }).end());
    expect(await waitUntilReady({ port: redirect, ready: { http: '/', timeoutMs: 2_000 }, signal: never })).toMatchObject({ ready: true });
  });

  it('keeps waiting on 5xx and says so on timeout', async () => {
    const failing = await serve('127.0.0.1', (_req, res) => res.writeHead(503).end());
    expect(await waitUntilReady({ port: failing, ready: { http: '/health', timeoutMs: 300 }, signal: never })).toEqual({
      ready: false,
      reason: 'GET /health answered 503',
    });
  });

  it('by default waits for the port to accept connections', async () => {
    const port = await unusedPort();
    const late = new Promise<void>((resolve) =>
      setTimeout(() => {
        const s = net.createServer();
        servers.push(s);
        s.listen(port, '127.0.0.1', resolve);
      }, 200),
    );
    const result = await waitUntilReady({ port, ready: { timeoutMs: 5_000 }, signal: never });
    await late;
    expect(result).toEqual({ ready: true, how: `port ${port} accepts connections` });
    const nobody = await unusedPort();
    expect(await waitUntilReady({ port: nobody, ready: { tcp: true, timeoutMs: 200 }, signal: never })).toEqual({
      ready: false,
      reason: `nothing accepted connections on port ${nobody}`,
    });
  });

  it('waits for a log line when asked, and stops waiting when aborted', async () => {
    let matched!: () => void;
    const logMatched = new Promise<void>((resolve) => (matched = resolve));
    setTimeout(matched, 50);
    expect(await waitUntilReady({ port: 1, ready: { log: /ready/, timeoutMs: 5_000 }, signal: never, logMatched })).toEqual({
      ready: true,
      how: 'log matched /ready/',
    });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 50);
    expect(await waitUntilReady({ port: await unusedPort(), ready: { timeoutMs: 60_000 }, signal: abort.signal })).toEqual({ ready: false, reason: 'aborted' });
  });
});

describe('CrashPolicy', () => {
  it('doubles the delay per crash in the window and gives up at the limit', () => {
    const policy = new CrashPolicy({ initialDelayMs: 100, maxDelayMs: 350, limit: 5, windowMs: 10_000 });
    expect([1, 2, 3, 4].map((t) => policy.crashed(t))).toEqual([
      { giveUp: false, crashes: 1, delayMs: 100 },
      { giveUp: false, crashes: 2, delayMs: 200 },
      { giveUp: false, crashes: 3, delayMs: 350 },
      { giveUp: false, crashes: 4, delayMs: 350 },
    ]);
    expect(policy.crashed(5)).toEqual({ giveUp: true, crashes: 5 });
  });

  it('forgets crashes older than the window, and after a reset', () => {
    const policy = new CrashPolicy({ initialDelayMs: 100, maxDelayMs: 10_000, limit: 3, windowMs: 1_000 });
    policy.crashed(0);
    policy.crashed(10);
    expect(policy.crashed(2_000)).toEqual({ giveUp: false, crashes: 1, delayMs: 100 });
    policy.crashed(2_001);
    policy.reset();
    expect(policy.crashed(2_002)).toMatchObject({ crashes: 1 });
  });
});

describe('log lines', () => {
  it('splits chunks into lines across chunk and UTF-8 boundaries, and keeps what a progress bar shows last', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((l) => lines.push(l));
    const euro = Buffer.from('€');
    splitter.push(Buffer.concat([Buffer.from('a'), euro.subarray(0, 1)]));
    splitter.push(Buffer.concat([euro.subarray(1), Buffer.from('b\r\nbuilding 10%\rbuilding 100%\npart')]));
    splitter.end();
    expect(lines).toEqual(['a€b', 'building 100%', 'part']);
  });

  it('cuts an endless line into pieces', () => {
    const lines: string[] = [];
    const splitter = new LineSplitter((l) => lines.push(l));
    splitter.push('x'.repeat(150 * 1024));
    expect(lines.map((l) => l.length)).toEqual([64 * 1024, 64 * 1024]);
  });

  it('strips colour and cursor codes, keeps the last lines', () => {
    expect(stripAnsi('\u001b[1m\u001b[32mok\u001b[39m\u001b[22m \u001b]8;;http://x\u0007link\u001b]8;;\u0007')).toBe('ok link');
    const recent = new RecentLines(2);
    ['a', 'b', 'c'].forEach((l) => recent.push(l));
    expect(recent.last()).toEqual(['b', 'c']);
  });
});

describe('LogFile', () => {
  it('appends lines with their colours but no other escape code, each after its time, and rotates past its cap', () => {
    const file = path.join(dir, 'logs', 'svc.log');
    const log = new LogFile(file, { maxBytes: 150 });
    log.line('\u001b[31mfirst\u001b[0m\u001b[2K\u001b]0;title\u0007');
    log.note('started');
    log.flush();
    const T = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';
    expect(readFileSync(file, 'utf8')).toMatch(new RegExp(`^${T} \u001b\\[31mfirst\u001b\\[0m\\n${T} \\[portbroker\\] started\\n$`));
    const [first] = readFileSync(file, 'utf8').split('\n');
    expect(parseLogLine(first!)).toEqual({ time: expect.stringMatching(new RegExp(`^${T}$`)), text: '\u001b[31mfirst\u001b[0m' });
    expect(parseLogLine('written before times')).toEqual({ time: null, text: 'written before times' });
    log.line('y'.repeat(80));
    log.flush();
    // Over 150 bytes: the old content moved to .1, the new file holds the new line.
    expect(readFileSync(`${file}.1`, 'utf8')).toMatch(new RegExp(`^${T} \u001b\\[31mfirst`));
    expect(logText(readFileSync(file, 'utf8').trimEnd())).toBe('y'.repeat(80));
    log.close();
  });

  it('two writers of one file (an up and a run of one checkout share its supervisor log) keep its cap, and each follows the rotation the other did', () => {
    const file = path.join(dir, 'logs', 'shared.log');
    const up = new LogFile(file, { maxBytes: 200, shared: true });
    const run = new LogFile(file, { maxBytes: 200, shared: true });
    const write = (log: LogFile, letter: string) => {
      log.line(letter.repeat(60)); // 86 bytes with its time
      log.flush();
      expect(statSync(file).size).toBeLessThanOrEqual(200);
    };
    const texts = (name: string) => readFileSync(name, 'utf8').trimEnd().split('\n').map((line) => logText(line)[0]);
    write(up, 'a');
    write(run, 'b');
    // 172 bytes in the file, of which up wrote 86: a third line would pass the cap.
    write(up, 'c');
    expect(texts(`${file}.1`)).toEqual(['a', 'b']);
    // run's next line goes to the file up began, not to the one up renamed away.
    write(run, 'd');
    expect(texts(file)).toEqual(['c', 'd']);
    expect(texts(`${file}.1`)).toEqual(['a', 'b']);
    up.close();
    run.close();
  });
});
