import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/cli.js';
import { config, get, SERVE, serviceRecord } from './helpers.js';

/** A service that reports, when it starts, whether `api` answers already. */
const PROBE_API = `
import http from 'node:http';
const url = 'http://127.0.0.1:' + process.env.API_PORT + '/health';
const answered = await fetch(url).then((r) => r.status, () => 'refused');
console.log('web saw api: ' + answered);
http.createServer((req, res) => res.end('web')).listen(Number(process.env.PORT), process.env.HOST);
process.on('SIGTERM', () => process.exit(0));
`;

describe('portbroker up: order and readiness', () => {
  it('starts a service only once what it depends on is ready (http readiness after a slow start)', async () => {
    const fx = await fixture({
      'serve.mjs': SERVE,
      'web.mjs': PROBE_API,
      'portbroker.config.json': config({
        services: {
          web: { command: 'node web.mjs', dependsOn: ['api'] },
          api: { command: 'node serve.mjs --delay 1000', ready: { http: '/health' } },
          other: { command: 'node serve.mjs' },
        },
      }),
    });
    const up = fx.start(['up']);
    const out = await up.waitFor(/SERVICE\s+PORT/);
    expect(out).toContain('web saw api: 200');
    expect(out).toMatch(/api is ready after .* \(GET \/health answered 200\)/);
    expect(out.indexOf('api is ready')).toBeLessThan(out.indexOf('web starting'));
    // The table lists every service, running.
    expect(out).toMatch(/web\s+\d+\s+http:\/\/web\.[^ ]+\s+running/);
    expect(serviceRecord(fx, 'api')).toMatchObject({ state: 'running', owner: up.child.pid });
    expect((await up.stop()).code).toBe(0);
    expect(serviceRecord(fx, 'api')?.state).toBe('stopped');
    expect(serviceRecord(fx, 'api')?.pid).toBeUndefined();
  });

  it('`up web` starts web and what it depends on, nothing else', async () => {
    const fx = await fixture({
      'serve.mjs': SERVE,
      'portbroker.config.json': config({
        services: {
          db: { command: 'node serve.mjs' },
          api: { command: 'node serve.mjs', dependsOn: ['db'] },
          web: { command: 'node serve.mjs', dependsOn: ['api'] },
          admin: { command: 'node serve.mjs' },
        },
      }),
    });
    const up = fx.start(['up', 'web']);
    const out = await up.waitFor(/SERVICE\s+PORT/);
    for (const s of ['db', 'api', 'web']) expect(out).toContain(`${s} listening on`);
    expect(out).not.toContain('admin');
    expect(serviceRecord(fx, 'admin')?.state).toBe('reserved');
    expect((await up.stop()).code).toBe(0);

    const unknown = await fx.run(['up', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown service "nope".*\n.*declared services: db, api, web, admin/);
  });

  it('waits for a log line when ready.log is set, and for tcp when ready.tcp is', async () => {
    const fx = await fixture({
      'serve.mjs': SERVE,
      'worker.mjs': `setTimeout(() => console.log('worker: queue connected'), 300); setInterval(() => {}, 1000); process.on('SIGTERM', () => process.exit(0));`,
      'portbroker.config.json': config({
        services: {
          worker: { command: 'node worker.mjs', proxy: false, ready: { log: 'queue connected$' } },
          api: { command: 'node serve.mjs', ready: { tcp: true }, dependsOn: ['worker'] },
        },
      }),
    });
    const up = fx.start(['up']);
    const out = await up.waitFor(/SERVICE\s+PORT/);
    expect(out).toMatch(/worker is ready after .* \(log matched \/queue connected\$\/\)/);
    expect(out).toMatch(/api is ready after .* \(port \d+ accepts connections\)/);
    const port = Number((await fx.run(['port', 'api'])).stdout.trim());
    expect((await get(port, '/')).body).toBe('this is api');
    expect((await up.stop()).code).toBe(0);
  });
});
