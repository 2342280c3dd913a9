import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import type { Worker } from 'node:worker_threads';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogHub, type LogHubOptions } from '../../src/dashboard/log-hub.js';
import { batchEvents, linesJson } from '../../src/dashboard/log-batches.js';
import { logLines } from '../../src/runner/log-file.js';
import { eventText, openEventStream, type EventStream } from '../../src/dashboard/sse.js';
import { until } from '../proxy/helpers.js';

/**
 * The dashboard's log streams over real HTTP: one reader per log file however many clients follow it, a client
 * joining a busy log mid-way gets its tail and then every later line (none twice, none missed), and a client that
 * does not read is skipped (told how many lines it missed) instead of buffered without bound.
 */

let dir: string;
let server: http.Server;
let port: number;
const cleanups: Array<() => void> = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'pb-log-hub-'));
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  if (server) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  rmSync(dir, { recursive: true, force: true });
});

/**
 * An empty log `api.log` and a server whose every request follows it (or the request's `file=`, in the view of its
 * `latest=`) through a hub of `options`; `responses` are the server's side of each stream.
 */
async function serve(options: LogHubOptions): Promise<{ file: string; hub: LogHub; responses: http.ServerResponse[] }> {
  const file = path.join(dir, 'api.log');
  writeFileSync(file, '');
  const hub = new LogHub(options);
  const responses: http.ServerResponse[] = [];
  server = http.createServer((req, res) => {
    responses.push(res);
    const asked = new URL(req.url!, 'http://x').searchParams;
    const latest = asked.get('latest');
    hub.follow(asked.get('file') ?? file, 'api', Number(asked.get('n')), openEventStream(req, res), latest ? { latest: Number(latest) } : {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
  return { file, hub, responses };
}

interface Client {
  /** The texts of every line received, in order. */
  lines: string[];
  skipped: number[];
  /** The length of each `lines` event's data. */
  eventSizes: number[];
  res: http.IncomingMessage;
  /** Settles when the server ends the stream or cuts the connection. */
  ended: Promise<void>;
  close(): void;
}

async function follow(n: number, file?: string, latest?: number): Promise<Client> {
  const req = http.get({ host: '127.0.0.1', port, path: `/?n=${n}${file ? `&file=${encodeURIComponent(file)}` : ''}${latest ? `&latest=${latest}` : ''}`, agent: false });
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => req.on('response', resolve).on('error', reject));
  const ended = new Promise<void>((resolve) => res.once('close', resolve));
  const client: Client = { lines: [], skipped: [], eventSizes: [], res, ended, close: () => req.destroy() };
  cleanups.push(client.close);
  let buffered = '';
  res.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    const events = buffered.split('\n\n');
    buffered = events.pop()!;
    for (const event of events) {
      const type = /^event: (.*)$/m.exec(event)?.[1];
      const data = /^data: (.*)$/m.exec(event)?.[1];
      if (type === 'lines') {
        client.lines.push(...(JSON.parse(data!) as Array<{ text: string }>).map((l) => l.text));
        client.eventSizes.push(data!.length);
      }
      if (type === 'skipped') client.skipped.push((JSON.parse(data!) as { lines: number }).lines);
    }
  });
  return client;
}

/** A stream whose client has gone: it takes nothing, and its close listeners are handed to `closers` to call. */
function gone(closers: Array<() => void>): EventStream {
  return {
    sendRaw: () => false,
    sendEvents: () => false,
    backlog: () => 0,
    writableReady: () => false,
    onClose: (listener) => void closers.push(listener),
    end: () => undefined,
    closed: true,
  };
}

/** The numbers of lines `0`, `1`, … in order, and whether each follows the one before. */
function consecutive(lines: string[]): boolean {
  return lines.every((line, i) => i === 0 || Number(line) === Number(lines[i - 1]) + 1);
}

describe('LogHub', () => {
  it('reads a busy log once for every client; a client joining mid-way gets its tail, then every line once', async () => {
    const { file, hub } = await serve({ pollMs: 50 });
    // Another process appends numbered lines, as a service would, while clients come and go.
    const total = 3000;
    const writer = spawn(process.execPath, ['-e', `const fs = require('fs'); let n = 0; const t = setInterval(() => { let s = ''; for (let i = 0; i < 5 && n < ${total}; i++) s += (n++) + '\\n'; fs.appendFileSync(${JSON.stringify(file)}, s); if (n >= ${total}) clearInterval(t); }, 5);`], { stdio: 'ignore' });
    cleanups.push(() => writer.kill('SIGKILL'));

    const first = await follow(0);
    await until(() => first.lines.length > 200, 'lines to the first client');
    const second = await follow(50);
    await until(() => second.lines.length > 100, 'lines to the second client');
    expect(hub.followedFiles).toBe(1);
    const third = await follow(0);
    await until(() => first.lines.at(-1) === String(total - 1) && second.lines.at(-1) === String(total - 1) && third.lines.at(-1) === String(total - 1), 'the last line to every client', 60_000);

    expect(consecutive(first.lines)).toBe(true);
    expect(Number(first.lines[0])).toBeLessThan(200);
    // The tail of 50 lines, then every later line: no gap where it joined, nothing twice.
    expect(consecutive(second.lines)).toBe(true);
    expect(second.lines.length).toBeGreaterThan(50);
    expect(consecutive(third.lines)).toBe(true);
    expect(first.skipped).toEqual([]);

    for (const client of [first, second, third]) client.close();
    await until(() => hub.followedFiles === 0, 'the reader closed with its last client');
  }, 90_000);

  it('gives the streams of a latest view what it held back when another joins, even one gone before its tail', async () => {
    // Read every 100 ms, so the view holds lines back for most of each second.
    const { file, hub } = await serve({ pollMs: 100 });
    let written = 0;
    let writing = true;
    const writer = (async () => {
      while (writing) {
        appendFileSync(file, Array.from({ length: 5 }, () => `${written++}\n`).join(''));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    try {
      // As wide as a second's lines: none is left out, so the stream must get every one.
      const first = await follow(0, undefined, 1000);
      await until(() => first.lines.length > 0, 'the first event');
      for (let i = 0; i < 10; i++) {
        // A stream whose client is gone before its tail comes (a page reloaded at once).
        const closers: Array<() => void> = [];
        hub.follow(file, 'api', 0, gone(closers), { latest: 1000 });
        for (const close of closers) close();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      writing = false;
      await writer;
      await until(() => first.lines.at(-1) === String(written - 1), 'the last line');
      expect(consecutive(first.lines)).toBe(true);
      expect(first.skipped).toEqual([]);
    } finally {
      writing = false;
      await writer;
    }
  });

  it('sends a big batch, and a long tail, as several events of about 64 KB, every line in order', async () => {
    const { file } = await serve({ pollMs: 50 });
    const client = await follow(0);
    // One append of ~600 KB: one check reads it all (up to 256 KiB a check), which was one event of that size.
    const total = 3000;
    appendFileSync(file, Array.from({ length: total }, (_, i) => `${i} ${'x'.repeat(200)}`).join('\n') + '\n');
    await until(() => client.lines.length === total, 'every line');
    expect(consecutive(client.lines.map((line) => line.split(' ')[0]!))).toBe(true);
    expect(client.eventSizes.length).toBeGreaterThan(8);
    // A run closes before the line that would take it past 64 KiB (the JSON's size is an estimate per line).
    expect(Math.max(...client.eventSizes)).toBeLessThan(64 * 1024 + 1024);

    // A long tail comes the same way.
    const late = await follow(total);
    await until(() => late.lines.length === total, 'the whole tail');
    expect(late.lines).toEqual(client.lines);
    expect(late.eventSizes.length).toBeGreaterThan(8);
    expect(Math.max(...late.eventSizes)).toBeLessThan(64 * 1024 + 1024);
  });

  it('skips a client that does not read (its backlog stays bounded), then says how many lines it missed', async () => {
    const maxBacklog = 64 * 1024;
    const { file, responses } = await serve({ pollMs: 20, maxBacklog });
    const client = await follow(0);
    client.res.pause();
    // A client that reads: once it has a line, the hub has handed that line's batch to the slow one too, or skipped it.
    const witness = await follow(0);
    let most = 0;
    const watch = setInterval(() => (most = Math.max(most, responses[0]!.writableLength)), 5);
    cleanups.push(() => clearInterval(watch));

    // Lines until the sockets' buffers between the two ends are full and the server's share for this client has
    // reached the cap, then as many again: from there on it is skipped.
    const perBurst = 2000;
    let written = 0;
    const burst = () => {
      // 40 MB at most: the sockets between two loopback ends buffer a few MB.
      if (written >= 200 * perBurst) throw new Error(`the server never held more than ${maxBacklog} bytes for a client that does not read`);
      appendFileSync(file, Array.from({ length: perBurst }, (_, i) => `${written + i} ${'x'.repeat(90)}`).join('\n') + '\n');
      written += perBurst;
    };
    await until(() => (most > maxBacklog ? true : (burst(), false)), 'the backlog to reach the cap', 60_000);
    for (let i = written / perBurst; i > 0; i--) burst();
    // Still paused until the reader has reached the last line: a client that read on before the last batches came
    // would miss nothing.
    const last = `${written - 1} ${'x'.repeat(90)}`;
    await until(() => witness.lines.at(-1) === last, 'the reader to reach the last line', 60_000);
    client.res.resume();
    // It gets lines again with the first batch after its backlog has drained below the cap (one that comes while it
    // drains is skipped too): lines keep coming until one reaches it.
    let ends = 0;
    await until(() => {
      if (client.lines.at(-1)?.startsWith('end ')) return true;
      appendFileSync(file, `end ${ends++}\n`);
      return false;
    }, 'a line written after the client caught up', 60_000);

    // Every line up to the last it got is either in its lines or in its `skipped` counts.
    const lastEnd = Number(client.lines.at(-1)!.slice('end '.length));
    const skipped = client.skipped.reduce((a, b) => a + b, 0);
    expect(skipped).toBeGreaterThan(0);
    expect(client.lines.length + skipped).toBe(written + lastEnd + 1);
    // What the server held for it never grew much past the cap (one batch of at most 256 KiB read, as JSON).
    expect(most).toBeLessThan(maxBacklog + 512 * 1024);
  }, 90_000);

  it('reads on a thread of its own: a log it cannot read ends that stream alone; close() ends them all, and the next follow reads again', async () => {
    const { file, hub } = await serve({ pollMs: 20 });
    const healthy = await follow(0);
    // A folder where a log file should be: its stream is cut (before any head), whatever the tail asked for.
    const folder = path.join(dir, 'not-a-file.log');
    mkdirSync(folder);
    // With a tail to read (n=10) and without one (n=0).
    for (const n of [10, 0]) {
      const broken = http.get({ host: '127.0.0.1', port, path: `/?n=${n}&file=${encodeURIComponent(folder)}`, agent: false });
      const cut = await new Promise<string>((resolve) => broken.on('response', () => resolve('answered')).on('error', (error) => resolve(error.message)));
      expect(cut).toMatch(/socket hang up|ECONNRESET/);
    }

    appendFileSync(file, 'after the failure\n');
    await until(() => healthy.lines.at(-1) === 'after the failure', 'a line to the healthy stream');
    expect(hub.followedFiles).toBe(1);

    hub.close();
    await healthy.ended;
    expect(hub.followedFiles).toBe(0);
    const again = await follow(1);
    appendFileSync(file, 'on a new thread\n');
    await until(() => again.lines.at(-1) === 'on a new thread', 'a line after close()');
    expect(again.lines).toEqual(['after the failure', 'on a new thread']);
    again.close();
  });
});

describe('LogHub when its thread dies', () => {
  it('ends every stream, says so once in the proxy\'s log, and the next follow reads on a new thread', async () => {
    const warnings: string[] = [];
    const { file, hub } = await serve({ pollMs: 20, onWarning: (message) => warnings.push(message) });
    const clients = [await follow(0), await follow(0)];
    appendFileSync(file, 'before\n');
    await until(() => clients.every((c) => c.lines.at(-1) === 'before'), 'a line to both streams');

    // The thread ends without the hub asking (as a crash in it would): terminated from outside.
    const thread = (hub as unknown as { worker: Worker }).worker;
    await thread.terminate();
    await Promise.all(clients.map((c) => c.ended));
    expect(hub.followedFiles).toBe(0);
    expect(warnings).toEqual([expect.stringMatching(/^the dashboard's log reader thread failed \(exit code 1\); its log streams were cut and reconnect; if this repeats, restart the proxy \(portbroker proxy stop, then portbroker up or portbroker proxy start\)$/)]);

    // A client reconnects (as EventSource does): a new thread, every later line.
    const again = await follow(1);
    appendFileSync(file, 'after\n');
    await until(() => again.lines.at(-1) === 'after', 'a line on the new thread');
    expect(again.lines).toEqual(['before', 'after']);
    expect((hub as unknown as { worker: Worker }).worker).not.toBe(thread);
    // The same failure again is not reported again.
    await (hub as unknown as { worker: Worker }).worker.terminate();
    await again.ended;
    expect(warnings).toHaveLength(1);
    hub.close();
  });
});

describe('linesJson', () => {
  it('is JSON.stringify(logLines(…)) for every kind of line, written without the objects', () => {
    const stamp = '2026-11-30T12:00:00.000Z ';
    const texts = ['plain', '', 'quotes " and \\ backslash', 'colour \u001b[32mok\u001b[0m, a tab\t, a bell \u0007', 'unicode é 漢字 😀 \u2028', '2026-11-30T12:00:00.000Zno space'];
    const lines = texts.flatMap((text) => [text, `${stamp}${text}`]);
    expect(linesJson('svc "a"', lines)).toBe(JSON.stringify(logLines('svc "a"', lines)));
    expect(JSON.parse(linesJson('s', [`${stamp}x`]))).toEqual([{ service: 's', time: stamp.trim(), text: 'x' }]);
  });

  it("is what batchEvents sends, each event whole: eventText('lines', JSON.stringify(logLines(…))) of its part", () => {
    const stamp = '2026-11-30T12:00:00.000Z ';
    // Over 64 KB of JSON: more than one event.
    const lines = Array.from({ length: 1500 }, (_, i) => (i % 3 === 0 ? `plain "${i}" \\ \u001b[31mred\u001b[0m` : `${stamp}line ${i} \t é 😀`));
    const { events, lines: count } = batchEvents('svc', lines, undefined);
    expect(count).toBe(lines.length);
    expect(events.length).toBeGreaterThan(1);
    let at = 0;
    for (const event of events) {
      const part = JSON.parse(/^event: lines\ndata: (.*)\n\n$/s.exec(event)![1]!) as unknown[];
      expect(event).toBe(eventText('lines', JSON.stringify(logLines('svc', lines.slice(at, at + part.length)))));
      at += part.length;
    }
    expect(at).toBe(lines.length);
  });
});
