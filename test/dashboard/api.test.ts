import { appendFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type { ServiceAction, ServiceTarget } from '../../src/dashboard/api.js';
import { createDashboard } from '../../src/dashboard/app.js';
import { updateRegistry } from '../../src/ports/registry.js';
import { RouteSource } from '../../src/proxy/route-source.js';
import { ConnectionStats } from '../../src/proxy/stats.js';
import { until } from '../proxy/helpers.js';

/**
 * The dashboard's express app with supertest: every API shape, the host and same-origin rules, no CORS, the
 * escaping, and the logs (tail and follow, across rotation). The registry and the log files are real files in a
 * temp state folder; the services' processes are real processes.
 */

const PORT = 7355;
const HOST = `portbroker.localhost:${PORT}`;
let home: string;
let routes: RouteSource;
let app: http.RequestListener;
let busy: ReturnType<typeof import('node:child_process').spawn>;
const stats = new ConnectionStats();
const acted: Array<{ action: ServiceAction; service: string; root: string }> = [];

beforeAll(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'pb-dashboard-'));
  const { spawn } = await import('node:child_process');
  // A service whose process tree uses CPU: a shell with a busy child, in a process group of its own.
  busy = spawn('/bin/sh', ['-c', 'node -e "for(;;){}" & wait'], { detached: true, stdio: 'ignore' });
  const logs = path.join(home, 'logs');
  mkdirSync(path.join(logs, 'acme'), { recursive: true });
  mkdirSync(path.join(logs, 'acme.fix-login'), { recursive: true });
  writeFileSync(path.join(logs, 'acme', 'api.log'), Array.from({ length: 300 }, (_, i) => `api line ${i + 1}`).join('\n') + '\n');
  writeFileSync(path.join(logs, 'acme', 'web.log'), '<script>alert("log")</script>\n\u001b[31mred\u001b[0m\n');
  const service = (port: number, extra: Record<string, unknown> = {}) => ({ port, proxy: true, hostnames: [], state: 'running' as const, pid: busy.pid, reservedAt: new Date().toISOString(), ...extra });
  await updateRegistry(home, (data) => {
    data.checkouts['/src/acme'] = {
      project: 'acme',
      label: '',
      root: '/src/acme',
      ownerPid: process.pid,
      services: {
        api: service(61001, { command: 'node server.js' }),
        web: service(61002, { state: 'stopped', pid: undefined, command: 'vite' }),
        docs: service(61003, { state: 'reserved', pid: undefined, onDemand: true, command: 'node docs.js', owner: process.pid }),
        db: service(61004, { proxy: false, state: 'reserved', pid: undefined }),
      },
    };
    data.checkouts['/src/acme-fix'] = { project: 'acme', label: 'fix-login', root: '/src/acme-fix', services: { web: service(61005, { state: 'stopped', pid: undefined }) } };
    data.checkouts['/src/xss'] = { project: 'x<img src=x onerror=alert(2)>', label: '', root: '/src/xss', services: { ui: service(61006, { state: 'stopped', pid: undefined }) } };
  });
  routes = new RouteSource({ home, onWarning: () => undefined });
  stats.refused({ host: 'evil.com', status: 403, reason: 'not a local name' });
  app = createDashboard({
    home,
    info: () => ({ pid: process.pid, port: PORT, addresses: ['127.0.0.1'], startedAt: new Date(Date.now() - 5_000), routes: routes.current.routes, stats: stats.snapshot(), requests: stats.requests, refusals: stats.refusals }),
    onRegistryChange: (listener) => routes.subscribe(listener),
    actions: async (action: ServiceAction, target: ServiceTarget) => {
      if (target.service === 'web') throw new Error('web is not running under a supervisor');
      acted.push({ action, service: target.service, root: target.checkout.root });
    },
  });
});

afterAll(() => {
  routes?.close();
  if (busy?.pid) process.kill(-busy.pid, 'SIGKILL');
  rmSync(home, { recursive: true, force: true });
});

const get = (p: string, host = HOST) => request(app).get(p).set('Host', host);
const post = (p: string, headers: Record<string, string> = {}, host = HOST) => request(app).post(p).set({ Host: host, ...headers });

/** The dashboard on a real port, for its event streams; closed, streams and all, when the test ends. */
async function listening(): Promise<number> {
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return (server.address() as net.AddressInfo).port;
}

/** An event stream from the dashboard: its response, and the text received so far. */
async function eventStream(port: number, pathname: string): Promise<{ res: http.IncomingMessage; text: () => string }> {
  const req = http.get({ host: '127.0.0.1', port, path: pathname, headers: { host: HOST } });
  onTestFinished(() => void req.destroy());
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => req.on('response', resolve).on('error', reject));
  let text = '';
  res.setEncoding('utf8').on('data', (d: string) => (text += d));
  return { res, text: () => text };
}

describe('GET /api/v1/services', () => {
  it('lists every checkout\'s services as ls --all --json does, with live figures', async () => {
    const res = await get('/api/v1/services').expect(200).expect('content-type', /json/);
    const keys = res.body.map((s: { checkout: string; service: string }) => `${s.checkout}/${s.service}`);
    expect(keys).toEqual(['acme/api', 'acme/db', 'acme/docs', 'acme/web', 'fix-login.acme/web', 'x<img src=x onerror=alert(2)>/ui']);
    const api = res.body[0];
    expect(api).toMatchObject({
      project: 'acme',
      label: '',
      service: 'api',
      checkout: 'acme',
      port: 61001,
      url: `http://api.acme.localhost:${PORT}`,
      host: 'api.acme.localhost',
      state: 'running',
      ready: true,
      pid: busy.pid,
      root: '/src/acme',
      pinned: false,
      kind: 'service',
      proxy: true,
      onDemand: false,
      command: 'node server.js',
    });
    expect(api.processes).toBeGreaterThanOrEqual(2); // the shell and its busy child
    expect(api.memoryBytes).toBeGreaterThan(1024 * 1024);
    expect(api.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(Date.parse(api.startedAt)).toBeLessThanOrEqual(Date.now());
    // The non-HTTP service is listed (with its direct address), the on-demand one says so.
    expect(res.body[1]).toMatchObject({ service: 'db', proxy: false, host: null, url: null, state: 'reserved', pid: null, cpuPercent: null });
    expect(res.body[2]).toMatchObject({ service: 'docs', state: 'on-demand', onDemand: true, ready: false });
  });

  it('measures the CPU of the whole process tree between samples', async () => {
    await get('/api/v1/services');
    let cpu = 0;
    await until(async () => {
      cpu = (await get('/api/v1/services/acme/api')).body.cpuPercent ?? 0;
      // The shell (the root) sleeps in `wait`: any CPU is its child's. A busy loop takes a whole core on an idle
      // machine, a few percent on a loaded one.
      return cpu > 1;
    }, 'the busy child to show CPU use');
    expect(cpu).toBeLessThan(400);
  });
});

describe('states from one pass over /proc', () => {
  it('says what ls says of a running record whose process died (stopped) or whose supervisor did (orphaned)', async () => {
    const { spawn } = await import('node:child_process');
    const exited = spawn('true');
    const dead = exited.pid!;
    await new Promise((resolve) => exited.once('exit', resolve));
    const record = (pid: number) => ({ port: 61100, proxy: true, hostnames: [], state: 'running' as const, pid, reservedAt: new Date().toISOString() });
    await updateRegistry(home, (data) => {
      data.checkouts['/src/gone'] = { project: 'gone', label: '', root: '/src/gone', ownerPid: process.pid, services: { crashed: record(dead) } };
      data.checkouts['/src/left'] = { project: 'left', label: '', root: '/src/left', ownerPid: dead, services: { api: { ...record(busy.pid!), port: 61101 } } };
    });
    try {
      const views = (await get('/api/v1/services').expect(200)).body as Array<{ checkout: string; service: string; state: string; pid: number | null; supervisor: number | null }>;
      expect(views.find((v) => v.checkout === 'gone')).toMatchObject({ state: 'stopped', pid: null });
      expect(views.find((v) => v.checkout === 'left')).toMatchObject({ state: 'orphaned', pid: busy.pid, supervisor: null });
      expect(views.find((v) => v.checkout === 'acme' && v.service === 'api')).toMatchObject({ state: 'running', pid: busy.pid });
    } finally {
      await updateRegistry(home, (data) => {
        delete data.checkouts['/src/gone'];
        delete data.checkouts['/src/left'];
      });
    }
  });
});

describe('GET /api/v1/services/:project/:service', () => {
  it('answers one service, a worktree\'s by its label', async () => {
    expect((await get('/api/v1/services/acme/web').expect(200)).body).toMatchObject({ service: 'web', state: 'stopped', pid: null });
    expect((await get('/api/v1/services/fix-login.acme/web').expect(200)).body).toMatchObject({ label: 'fix-login', url: `http://web.fix-login.acme.localhost:${PORT}` });
  });

  it('answers 404 with a reason for an unknown one', async () => {
    const res = await get('/api/v1/services/acme/nope').expect(404);
    expect(res.body).toMatchObject({ status: 404, error: 'unknown-service' });
    expect(res.body.message).toContain('GET /api/v1/services');
  });
});

describe('GET /api/v1/proxy', () => {
  it('reports the proxy\'s health: uptime, connections, requests, refusals, routes', async () => {
    const res = await get('/api/v1/proxy').expect(200);
    expect(res.body).toMatchObject({ pid: process.pid, port: PORT, addresses: ['127.0.0.1'], connections: { clients: 0, upstreams: 0 } });
    expect(res.body.uptimeSeconds).toBeGreaterThanOrEqual(5);
    expect(res.body.refused).toEqual([expect.objectContaining({ host: 'evil.com', status: 403 })]);
    expect(res.body.routes).toContainEqual(expect.objectContaining({ host: 'api.acme.localhost', state: 'running' }));
    expect(res.body).toHaveProperty('requestsPerSecond');
  });

  it('reports how late the event loop ran: a 120 ms block shows in the next reading', async () => {
    let delay = { p99: 0, max: 0 };
    // A reading covers the time since the previous one (at least half a second): block, then read, until it does.
    await until(async () => {
      const blockedUntil = Date.now() + 120;
      while (Date.now() < blockedUntil); // the event loop held, as a long synchronous pass would
      await new Promise((resolve) => setImmediate(resolve));
      delay = (await get('/api/v1/proxy').expect(200)).body.eventLoopDelayMs ?? delay;
      // Sampled every 50 ms: the block shows as at least 70 ms of lateness, whenever it began.
      return delay.max >= 70;
    }, 'a reading with the block in it');
    expect(delay.p99).toBeGreaterThan(0);
  });
});

describe('logs', () => {
  it('gives the last n lines as JSON', async () => {
    const res = await get('/api/v1/services/acme/api/logs?n=3').expect(200);
    expect(res.body).toMatchObject({ project: 'acme', service: 'api' });
    expect(res.body.lines).toEqual(['api line 298', 'api line 299', 'api line 300'].map((text) => ({ service: 'api', time: null, text })));
    expect((await get('/api/v1/services/acme/api/logs').expect(200)).body.lines).toHaveLength(200);
    expect((await get('/api/v1/services/acme/docs/logs').expect(200)).body.lines).toEqual([]); // no log yet
  });

  it('refuses a bad n with 400 and a reason', async () => {
    for (const n of ['-1', 'abc', '999999']) {
      const res = await get(`/api/v1/services/acme/api/logs?n=${n}`).expect(400);
      expect(res.body.message).toMatch(/^n must be a whole number from 0 to 5000/);
    }
  });

  it('searches (q, ignoring case and colour codes) among the last lines, and keeps the colours in the text', async () => {
    const res = await get('/api/v1/services/acme/api/logs?n=3&q=LINE%2029').expect(200);
    expect(res.body.lines.map((l: { text: string }) => l.text)).toEqual(['api line 297', 'api line 298', 'api line 299']);
    expect((await get('/api/v1/services/acme/web/logs?q=RED').expect(200)).body.lines).toEqual([{ service: 'web', time: null, text: '\u001b[31mred\u001b[0m' }]);
    expect((await get('/api/v1/services/acme/api/logs?q=nowhere').expect(200)).body.lines).toEqual([]);
  });

  it('refuses a bad latest or q with 400 and a reason', async () => {
    expect((await get('/api/v1/services/acme/api/logs?follow=1&latest=0').expect(400)).body.message).toMatch(/^latest must be at least 1/);
    expect((await get('/api/v1/services/acme/api/logs?follow=1&latest=x').expect(400)).body.message).toMatch(/^latest must be a whole number/);
    expect((await get(`/api/v1/services/acme/api/logs?q=${'x'.repeat(201)}`).expect(400)).body.message).toMatch(/^q must be one text of at most 200/);
    expect((await get('/api/v1/services/acme/api/logs?q=a&q=b').expect(400)).body.message).toMatch(/^q must be one text/);
  });

  it('follows as server-sent events: the tail, then new lines, across rotation', async () => {
    const file = path.join(home, 'logs', 'acme', 'api.log');
    const { res, text } = await eventStream(await listening(), '/api/v1/services/acme/api/logs?n=2&follow=1');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    await until(() => text().includes('event: lines\ndata: [{"service":"api","time":null,"text":"api line 299"},{"service":"api","time":null,"text":"api line 300"}]\n\n'), 'the tail');
    appendFileSync(file, '2026-01-02T03:04:05.678Z a new line\n');
    await until(() => text().includes('data: [{"service":"api","time":"2026-01-02T03:04:05.678Z","text":"a new line"}]'), 'the appended line');
    // Rotation as the runner does it: the file renamed to .1, a new one begun.
    appendFileSync(file, 'last line before rotation\n');
    renameSync(file, `${file}.1`);
    writeFileSync(file, 'first line after rotation\n');
    await until(() => text().includes('first line after rotation'), 'the line after rotation');
    expect(text()).toContain('last line before rotation');
  });

  it('sends a latest view at most once a second, every line counted: shown or skipped', async () => {
    const file = path.join(home, 'logs', 'acme', 'api.log');
    const { text } = await eventStream(await listening(), '/api/v1/services/acme/api/logs?n=0&follow=1&latest=3');
    await until(() => text().includes('event: lines'), 'the (empty) tail');
    const started = performance.now();
    let written = 0;
    // 10 lines every 20 ms, for three seconds: far more often than the view's events may come (the log is read
    // every 500 ms).
    while (performance.now() - started < 3000) {
      appendFileSync(file, Array.from({ length: 10 }, () => `paced ${written++}`).join('\n') + '\n');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const received = () => [...text().matchAll(/"text":"paced (\d+)"/g)].map((m) => Number(m[1]));
    const skipped = () => [...text().matchAll(/"lines":(\d+),"reason":"latest"/g)].reduce((sum, m) => sum + Number(m[1]), 0);
    await until(() => received().at(-1) === written - 1, 'the last line');
    expect(received().length + skipped()).toBe(written);
    const events = text().split('event: lines').length - 2; // less the tail's
    // Every second while lines come, not all at the end; and not every read.
    expect(events).toBeGreaterThanOrEqual(2);
    expect(events).toBeLessThanOrEqual(Math.ceil((performance.now() - started) / 1000) + 1);
  });

  it('gives a stream that joins a latest view no line twice: what the view held back goes to the others first', async () => {
    const file = path.join(home, 'logs', 'acme', 'api.log');
    const port = await listening();
    // A view as wide as a second's lines, so none is left out: every stream must get each line once from its tail on.
    const path_ = '/api/v1/services/acme/api/logs?n=1000&follow=1&latest=1000';
    const first = await eventStream(port, path_);
    await until(() => first.text().includes('event: lines'), 'the first stream\'s tail');
    let written = 0;
    const numbers = (text: string) => [...text.matchAll(/"text":"joined (\d+)"/g)].map((m) => Number(m[1]));
    // 5 lines every 20 ms throughout, so the view holds lines back for about half of each second (it reads every
    // 500 ms and sends once a second). Streams join every 150 ms for over a second: some join while lines are held.
    const streams = [first];
    let writing = true;
    const writer = (async () => {
      while (writing) {
        appendFileSync(file, Array.from({ length: 5 }, () => `joined ${written++}`).join('\n') + '\n');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    try {
      await until(() => numbers(first.text()).length > 0, 'the first stream\'s first event');
      for (let i = 0; i < 8; i++) {
        const stream = await eventStream(port, path_);
        await until(() => stream.text().includes('event: lines'), 'a joining stream\'s tail');
        streams.push(stream);
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    } finally {
      writing = false;
      await writer;
    }
    await until(() => streams.every(({ text }) => numbers(text()).at(-1) === written - 1), 'the last line in every stream');
    for (const { text } of streams) {
      const seen = numbers(text());
      // Each line once, in order of writing, from the stream's first on.
      expect(seen).toEqual(Array.from({ length: written - seen[0]! }, (_, i) => seen[0]! + i));
      expect(text()).not.toContain('event: skipped');
    }
  });

  it('follows a view: the newest `latest` lines of a burst with the rest counted, and only the lines matching q', async () => {
    const port = await listening();
    const file = path.join(home, 'logs', 'acme', 'api.log');
    const { text: latest } = await eventStream(port, '/api/v1/services/acme/api/logs?n=1&follow=1&latest=5');
    const { text: query } = await eventStream(port, '/api/v1/services/acme/api/logs?n=1&follow=1&q=even');
    await until(() => latest().includes('event: lines') && query().includes('event: lines'), 'the tails');
    // The tail of a search is the last matching line, not the last line.
    expect(query()).toContain('data: []');
    // One append, so one batch for the reader: 100 lines, every other one "even".
    appendFileSync(file, Array.from({ length: 100 }, (_, i) => `burst ${i}${i % 2 === 0 ? ' even' : ''}`).join('\n') + '\n');
    await until(() => latest().includes('burst 99') && query().includes('burst 98 even'), 'the burst');
    expect(latest()).toContain('event: skipped\ndata: {"lines":95,"reason":"latest"}\n\nevent: lines\n');
    expect([...latest().matchAll(/"text":"burst (\d+)(?: even)?"/g)].map((m) => Number(m[1]))).toEqual([95, 96, 97, 98, 99]);
    const found = [...query().matchAll(/"text":"burst (\d+) even"/g)];
    expect(found.map((m) => Number(m[1]))).toEqual(Array.from({ length: 50 }, (_, i) => i * 2));
    expect(query()).not.toContain('skipped');
  });
});

describe('live state (GET /api/v1/events)', () => {
  it('sends services and proxy at once, then again when the registry changes', async () => {
    const { text } = await eventStream(await listening(), '/api/v1/events');
    try {
      await until(() => text().includes('event: services\n') && text().includes('event: proxy\n'), 'the first snapshot');
      await updateRegistry(home, (data) => {
        data.checkouts['/src/acme']!.services.web!.state = 'crashed';
      });
      await until(() => /"service":"web","port":61002,"url":"[^"]+","state":"crashed"/.test(text()), 'the crashed state');
    } finally {
      await updateRegistry(home, (data) => {
        data.checkouts['/src/acme']!.services.web!.state = 'stopped';
      });
    }
  });
});

describe('dashboard hosts only', () => {
  it.each([HOST, 'localhost:7355', 'localhost', '127.0.0.1:7355', '[::1]:7355', 'PortBroker.LocalHost.:7355'])('serves Host %s', async (host) => {
    await get('/', host).expect(200).expect('content-type', /html/);
    await get('/api/v1/services', host).expect(200);
  });

  it.each(['web.acme.localhost:7355', 'evil.com', '127.0.0.2:7355', '10.0.0.1'])('refuses Host %s with 403 (pages, API and event streams)', async (host) => {
    for (const p of ['/', '/api/v1/services', '/api/v1/events', '/api/v1/services/acme/api/logs?follow=1']) {
      const res = await get(p, host).expect(403);
      expect(res.body).toMatchObject({ status: 403, error: 'not-dashboard-host' });
    }
  });
});

describe('mutations: same origin only', () => {
  const path = '/api/v1/services/acme/api/restart';

  it('refuses a foreign Host even with a matching Origin', async () => {
    const res = await post(path, { Origin: 'http://web.acme.localhost:7355' }, 'web.acme.localhost:7355').expect(403);
    expect(res.body.error).toBe('not-dashboard-host');
  });

  it.each([
    ['a cross-site Origin', { Origin: 'http://evil.com' }, /Origin http:\/\/evil\.com is not the dashboard's/],
    ['another localhost service', { Origin: 'http://web.acme.localhost:7355' }, /is not the dashboard's/],
    ['another port', { Origin: 'http://portbroker.localhost:9999' }, /is not the dashboard's/],
    ['Origin: null', { Origin: 'null' }, /is not the dashboard's/],
    ['no Origin', {}, /needs an Origin header/],
    ['Sec-Fetch-Site: cross-site', { 'Sec-Fetch-Site': 'cross-site', Origin: `http://${HOST}` }, /cross-site request may not change services/],
    ['Sec-Fetch-Site: same-site', { 'Sec-Fetch-Site': 'same-site' }, /same-site request may not change services/],
  ])('refuses %s with 403 and a reason', async (_what, headers, reason) => {
    acted.length = 0;
    const res = await post(path, headers as Record<string, string>).expect(403);
    expect(res.body).toMatchObject({ status: 403, error: 'cross-origin' });
    expect(res.body.message).toMatch(reason);
    expect(acted).toEqual([]);
  });

  it('accepts a same-origin Origin or Sec-Fetch-Site: same-origin, and answers with the service', async () => {
    acted.length = 0;
    const res = await post(path, { Origin: `http://${HOST}` }).expect(200);
    expect(res.body).toMatchObject({ action: 'restart', service: { service: 'api', checkout: 'acme' } });
    await post('/api/v1/services/acme/api/stop', { 'Sec-Fetch-Site': 'same-origin' }, 'localhost:7355').expect(200);
    expect(acted).toEqual([
      { action: 'restart', service: 'api', root: '/src/acme' },
      { action: 'stop', service: 'api', root: '/src/acme' },
    ]);
  });

  it('answers 409 with the reason when the action fails, 404 for an unknown action or service', async () => {
    const failed = await post('/api/v1/services/acme/web/start', { Origin: `http://${HOST}` }).expect(409);
    expect(failed.body.message).toBe('web is not running under a supervisor');
    await post('/api/v1/services/acme/api/explode', { Origin: `http://${HOST}` }).expect(404);
    await post('/api/v1/services/acme/nope/start', { Origin: `http://${HOST}` }).expect(404);
  });

  it('sends no CORS headers, preflight included', async () => {
    const responses = [
      await request(app).options(path).set({ Host: HOST, Origin: 'http://evil.com', 'Access-Control-Request-Method': 'POST' }),
      await get('/api/v1/services').set('Origin', 'http://evil.com'),
      await post(path, { Origin: 'http://evil.com' }),
    ];
    for (const res of responses) {
      expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    }
    expect(responses[0]!.status).toBe(403);
  });
});

describe('escaping', () => {
  it('keeps hostile names and log lines out of the HTML; the page runs only its own script', async () => {
    const page = await get('/').expect(200);
    expect(page.text).not.toContain('<img src=x');
    expect(page.text).not.toMatch(/<script>(?!<\/script>)/); // no inline script
    const csp = page.headers['content-security-policy'];
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("'unsafe-eval'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    // In JSON they are data, as they were written.
    const services = await get('/api/v1/services').expect(200);
    expect(services.body.at(-1).project).toBe('x<img src=x onerror=alert(2)>');
    const logs = await get('/api/v1/services/acme/web/logs').expect(200);
    expect(logs.body.lines.map((l: { text: string }) => l.text)).toEqual(['<script>alert("log")</script>', '\u001b[31mred\u001b[0m']);
    expect(logs.headers['content-type']).toMatch(/^application\/json/);
  });

  it('serves its script from /assets with the same policy, and JSON 404s elsewhere', async () => {
    const script = await get('/assets/dashboard.js').expect(200);
    expect(script.headers['content-type']).toMatch(/javascript/);
    expect(script.text).toContain('EventSource');
    const missing = await get('/nope').expect(404);
    expect(missing.body.error).toBe('not-found');
    await get('/api/v1/nope').expect(404);
  });
});
