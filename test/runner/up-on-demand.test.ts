import { describe, expect, it } from 'vitest';
import http from 'node:http';
import { statSync } from 'node:fs';
import { servicePath } from '../../src/control/protocol.js';
import { fixture } from '../helpers/cli.js';
import { config, readRegistry, SERVE, serviceRecord, until, viaProxy } from './helpers.js';

function post(socketPath: string, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path, method: 'POST' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('portbroker up: on-demand services', () => {
  it('the first request through the proxy starts the service; idle, it stops; the next request starts it again', async () => {
    const fx = await fixture({
      'serve.mjs': SERVE,
      'portbroker.config.json': config({
        name: 'rt-site',
        services: {
          web: { command: 'node serve.mjs' },
          docs: { command: 'node serve.mjs --delay 300', start: 'on-demand', idleStopMs: 1_000 },
        },
      }),
    });
    const up = fx.start(['up']);
    const out = await up.waitFor(/SERVICE\s+PORT/);
    // The words of `ls`, which says the same while up runs.
    expect(out).toMatch(/docs\s+\d+\s+\S+\s+on-demand/);
    const lsState = async (name: string) => (JSON.parse((await fx.run(['ls', '--json'])).stdout) as Array<{ service: string; state: string }>).find((r) => r.service === name)?.state;
    expect(await lsState('docs')).toBe('on-demand');
    expect(out).not.toContain('docs listening');
    expect(serviceRecord(fx, 'docs')).toMatchObject({ onDemand: true });
    expect(serviceRecord(fx, 'docs')?.pid).toBeUndefined();

    // The request waits while docs starts, then gets its answer.
    expect(await viaProxy(fx, 'docs.rt-site.localhost')).toEqual({ status: 200, body: 'this is docs' });
    expect(serviceRecord(fx, 'docs')).toMatchObject({ state: 'running', owner: up.child.pid });

    await up.waitFor(/docs stopped after 1 s without requests; the next request starts it again/);
    await until(() => serviceRecord(fx, 'docs')?.state === 'stopped', 'docs recorded as stopped');
    expect(serviceRecord(fx, 'docs')?.pid).toBeUndefined();
    // Stopped when idle, it waits for the next request again.
    expect(await lsState('docs')).toBe('on-demand');

    expect(await viaProxy(fx, 'docs.rt-site.localhost')).toEqual({ status: 200, body: 'this is docs' });
    expect(up.stdout.match(/docs\s+│ docs listening/g)).toHaveLength(2);
    // Stopped on request, it does not wait for requests: a request does not start it, and ls says so.
    expect((await fx.run(['stop', 'docs'])).code).toBe(0);
    expect(await lsState('docs')).toBe('stopped');
    expect((await viaProxy(fx, 'docs.rt-site.localhost')).status).toBe(502);
    expect((await fx.run(['start', 'docs'])).code).toBe(0);
    expect(await lsState('docs')).toBe('running');
    expect((await up.stop()).code).toBe(0);
    // With no up to start it, it is not on demand any more.
    expect(await lsState('docs')).toMatch(/^(stopped|reserved)$/);
  });

  it('a service slower to start than its idleStopMs is not stopped while the first request waits', async () => {
    const fx = await fixture({
      'serve.mjs': SERVE,
      'portbroker.config.json': config({
        name: 'rt-slow',
        services: { docs: { command: 'node serve.mjs --delay 1500', start: 'on-demand', idleStopMs: 500 } },
      }),
    });
    const up = fx.start(['up']);
    await up.waitFor(/SERVICE\s+PORT/);
    expect(await viaProxy(fx, 'docs.rt-slow.localhost')).toEqual({ status: 200, body: 'this is docs' });
    // Idle time counts from when it runs: it stops after that, not before.
    await up.waitFor(/docs stopped after 0.5 s without requests/);
    expect((await up.stop()).code).toBe(0);
  });

  it('a request for an on-demand service that crashed starts it again', async () => {
    const fx = await fixture({
      'serve.mjs': SERVE,
      // Crashes on its first start (leaving a marker), serves on the next.
      'flaky.mjs': `import { existsSync, writeFileSync } from 'node:fs';
if (!existsSync('crashed-once')) { writeFileSync('crashed-once', ''); console.log('boom'); process.exit(1); }
await import('./serve.mjs');
`,
      'portbroker.config.json': config({
        name: 'rt-flaky',
        services: { docs: { command: 'node flaky.mjs', start: 'on-demand', restart: 'no' } },
      }),
    });
    const up = fx.start(['up']);
    await up.waitFor(/SERVICE\s+PORT/);
    const first = await viaProxy(fx, 'docs.rt-flaky.localhost');
    expect(first.status).toBe(502);
    await until(() => serviceRecord(fx, 'docs')?.state === 'crashed', 'docs recorded as crashed');
    // The route table still says crashed when this request arrives; the start it asks for must count.
    expect(await viaProxy(fx, 'docs.rt-flaky.localhost')).toEqual({ status: 200, body: 'this is docs' });
    expect((await up.stop()).code).toBe(0);
  });

  it('serves the control socket: start and touch, 404 for a service it does not run', async () => {
    const fx = await fixture({
      'serve.mjs': SERVE,
      'portbroker.config.json': config({ services: { docs: { command: 'node serve.mjs', start: 'on-demand' } } }),
    });
    const up = fx.start(['up']);
    await up.waitFor(/SERVICE\s+PORT/);
    const checkout = Object.values(readRegistry(fx).checkouts)[0]!;
    expect(checkout.ownerPid).toBe(up.child.pid);
    const socket = checkout.control!;
    // Only this user may drive the supervisor.
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    expect(await post(socket, servicePath('nope', 'start'))).toBe(404);
    // Versioned: a path without the protocol version is not understood.
    expect(await post(socket, '/services/docs/start')).toBe(404);
    expect(await post(socket, servicePath('docs', 'touch'))).toBe(204);
    expect(await post(socket, servicePath('docs', 'start'))).toBe(202);
    await until(() => serviceRecord(fx, 'docs')?.state === 'running', 'docs running');
    // Already running: accepted again, nothing new started.
    expect(await post(socket, servicePath('docs', 'start'))).toBe(202);
    expect((await up.stop()).code).toBe(0);
    const after = Object.values(readRegistry(fx).checkouts)[0]!;
    expect(after.ownerPid).toBeUndefined();
    expect(after.control).toBeUndefined();
    expect(up.stdout.match(/docs listening/g)).toHaveLength(1);
  });
});
