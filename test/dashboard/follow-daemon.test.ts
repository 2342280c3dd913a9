import { appendFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/cli.js';
import { logFile, registerService, startProxy, until } from '../proxy/helpers.js';

/**
 * Following a busy log through the real proxy daemon: batches far above a socket's buffer, every line delivered
 * once, in order of writing. (The benchmark's continuous 1,000 lines/s per service once stalled a stream that
 * waited for `drain`; this burst does not reproduce that, but guards delivery through the daemon.)
 */
describe('log following in the proxy daemon', () => {
  it('delivers every line of a fast-growing log', async () => {
    const fx = await fixture();
    await startProxy(fx);
    await registerService(fx.home, { project: 'acme', service: 'api', port: 61999 });
    const file = logFile(fx.home, 'acme', 'api');
    mkdirSync(path.dirname(file), { recursive: true });
    appendFileSync(file, 'before\n');

    let text = '';
    const req = http.get({ host: '127.0.0.1', port: fx.proxyPort, path: '/api/v1/services/acme/api/logs?n=0&follow=1', headers: { host: `localhost:${fx.proxyPort}` } });
    try {
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => req.on('response', resolve).on('error', reject));
      expect(res.statusCode).toBe(200);
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      await until(() => text.includes('event: lines'), 'the (empty) tail');
      // 20,000 lines of 100 bytes, in bursts: about 2 MB.
      const total = 20_000;
      for (let burst = 0; burst < 20; burst++) {
        appendFileSync(file, Array.from({ length: total / 20 }, (_, i) => `line ${burst * (total / 20) + i} ${'x'.repeat(85)}`).join('\n') + '\n');
      }
      await until(() => text.includes(`"text":"line ${total - 1} `), 'the last line', 60_000);
      expect(text.match(/"text":"line \d+ /g)).toHaveLength(total);
    } finally {
      req.destroy();
    }
  }, 120_000);

  // Per-thread nice values are Linux's (elsewhere the reader runs at the proxy's priority).
  it.skipIf(process.platform !== 'linux')('reads the logs on a thread that gives way to forwarding (10 nice levels below the proxy)', async (context) => {
    const fx = await fixture();
    const pid = await startProxy(fx);
    await registerService(fx.home, { project: 'acme', service: 'api', port: 61998 });
    const nices = () => readdirSync(`/proc/${pid}/task`).map((tid) => {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // Field 19 (nice), counted after the command's closing parenthesis.
      return { tid: Number(tid), nice: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]) };
    });
    const before = nices();
    expect(before.filter((t) => t.nice !== before[0]!.nice)).toEqual([]);

    let text = '';
    const req = http.get({ host: '127.0.0.1', port: fx.proxyPort, path: '/api/v1/services/acme/api/logs?n=0&follow=1', headers: { host: `localhost:${fx.proxyPort}` } });
    try {
      const res = await new Promise<http.IncomingMessage>((resolve, reject) => req.on('response', resolve).on('error', reject));
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      await until(() => text.includes('event: lines'), 'the (empty) tail');
      const main = nices().find((t) => t.tid === pid)!;
      const lowered = nices().filter((t) => t.nice !== main.nice);
      // A test run under nice 19 has no lower level to give the reader.
      if (main.nice === 19) return context.skip();
      // The reader thread alone: the proxy's own thread, and libuv's, stay where they were.
      expect(lowered.map((t) => t.nice - main.nice)).toEqual([Math.min(19, main.nice + 10) - main.nice]);
      expect(before.some((t) => t.tid === lowered[0]!.tid)).toBe(false);
    } finally {
      req.destroy();
    }
  }, 60_000);
});
