import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/cli.js';
import { alive, config, fixtureProcesses, SERVE, serviceRecord } from './helpers.js';

/** Says when it gets SIGTERM, then exits. */
const POLITE = SERVE.replace("process.on('SIGTERM', () => process.exit(0));", "process.on('SIGTERM', () => { process.stdout.write(name + ' got SIGTERM\\n'); process.exit(0); });");

/** Listens, and ignores SIGTERM. */
const STUBBORN = `
import http from 'node:http';
http.createServer((q, r) => r.end('x')).listen(Number(process.env.PORT), process.env.HOST, () => console.log('stubborn up'));
process.on('SIGTERM', () => console.log('stubborn ignores SIGTERM'));
`;

describe('portbroker up: shutdown', () => {
  it('SIGINT stops every service and its grandchildren, dependents first, and exits 0', async () => {
    const fx = await fixture({
      'serve.mjs': POLITE,
      'portbroker.config.json': config({
        services: {
          api: { command: 'node serve.mjs --child' },
          web: { command: 'node serve.mjs --child', dependsOn: ['api'] },
          admin: { command: 'node serve.mjs --child', dependsOn: ['api'] },
        },
      }),
    });
    const up = fx.start(['up']);
    const out = await up.waitFor(/SERVICE\s+PORT/);
    const grandchildren = [...out.matchAll(/grandchild (\d+)/g)].map((m) => Number(m[1]));
    expect(grandchildren).toHaveLength(3);
    expect(grandchildren.every(alive)).toBe(true);
    expect(fixtureProcesses(fx).length).toBeGreaterThanOrEqual(6);

    up.child.kill('SIGINT');
    const result = await up.exited;
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/stopping… \(press Ctrl-C again/);
    // Dependents first: web and admin have gone before api hears of it.
    expect(result.stdout.indexOf('api got SIGTERM')).toBeGreaterThan(result.stdout.indexOf('web got SIGTERM'));
    expect(result.stdout.indexOf('api got SIGTERM')).toBeGreaterThan(result.stdout.indexOf('admin got SIGTERM'));
    // Nothing of the fixture is left: not the services, not their grandchildren.
    expect(fixtureProcesses(fx)).toEqual([]);
    expect(grandchildren.some(alive)).toBe(false);
    // Routes withdrawn, reservations kept.
    for (const s of ['api', 'web', 'admin']) expect(serviceRecord(fx, s)).toMatchObject({ state: 'stopped' });
    expect(serviceRecord(fx, 'api')?.port).toBeGreaterThan(0);
  });

  it('kills a service that ignores SIGTERM once its grace period is over', async () => {
    const fx = await fixture({
      'stubborn.mjs': STUBBORN,
      'serve.mjs': SERVE,
      'portbroker.config.json': config({
        shutdownGraceMs: 400,
        services: { stubborn: { command: 'node stubborn.mjs' }, fine: { command: 'node serve.mjs' } },
      }),
    });
    const up = fx.start(['up']);
    await up.waitFor(/SERVICE\s+PORT/);
    up.child.kill('SIGTERM');
    const result = await up.exited;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('stubborn ignores SIGTERM');
    expect(result.stderr).toMatch(/stubborn did not stop within 0\.4 s of SIGTERM; killed it \(SIGKILL\)/);
    expect(fixtureProcesses(fx)).toEqual([]);
  });

  it('a second Ctrl-C kills everything at once and exits 130', async () => {
    const fx = await fixture({
      'stubborn.mjs': STUBBORN,
      'portbroker.config.json': config({ services: { stubborn: { command: 'node stubborn.mjs', shutdownGraceMs: 60_000 } } }),
    });
    const up = fx.start(['up']);
    await up.waitFor(/SERVICE\s+PORT/);
    up.child.kill('SIGINT');
    await up.waitFor(/stubborn ignores SIGTERM/);
    // A second signal within 300 ms counts as the same keypress (npx/pnpm forward the terminal's Ctrl-C):
    // this one comes later, as a person's second Ctrl-C does.
    await new Promise((resolve) => setTimeout(resolve, 500));
    up.child.kill('SIGINT');
    const result = await up.exited;
    expect(result.code).toBe(130);
    expect(result.stderr).toMatch(/killing everything \(SIGKILL\)/);
    expect(fixtureProcesses(fx)).toEqual([]);
  });

  it('a Ctrl-C delivered twice at once (terminal and npx) stops gracefully', async () => {
    const fx = await fixture({ 'serve.mjs': POLITE, 'portbroker.config.json': config({ services: { api: { command: 'node serve.mjs' } } }) });
    const up = fx.start(['up']);
    await up.waitFor(/SERVICE\s+PORT/);
    up.child.kill('SIGINT');
    up.child.kill('SIGINT');
    const result = await up.exited;
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('api got SIGTERM');
    expect(result.stderr).not.toContain('killing everything');
  });

  it('Ctrl-C while services are still starting stops what was started, and prints no table', async () => {
    const fx = await fixture({
      'serve.mjs': SERVE,
      'portbroker.config.json': config({
        services: { slow: { command: 'node serve.mjs --child --delay 30000' }, after: { command: 'node serve.mjs', dependsOn: ['slow'] } },
      }),
    });
    const up = fx.start(['up']);
    await up.waitFor(/slow grandchild \d+/);
    up.child.kill('SIGINT');
    const result = await up.exited;
    expect(result.code).toBe(0);
    expect(result.stdout).not.toMatch(/SERVICE\s+PORT/);
    expect(result.stderr).not.toContain('after starting');
    expect(fixtureProcesses(fx)).toEqual([]);
  });

  it('SIGHUP (the terminal closed) stops everything too', async () => {
    const fx = await fixture({ 'serve.mjs': SERVE, 'portbroker.config.json': config({ services: { api: { command: 'node serve.mjs --child' } } }) });
    const up = fx.start(['up']);
    await up.waitFor(/SERVICE\s+PORT/);
    up.child.kill('SIGHUP');
    expect((await up.exited).code).toBe(0);
    expect(fixtureProcesses(fx)).toEqual([]);
  });
});
