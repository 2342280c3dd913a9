import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/cli.js';
import { alive, config, fixtureProcesses, SERVE, serviceRecord, until } from '../runner/helpers.js';

/** `down` at awkward moments: while a service is still starting, and two `down`s at once. */

describe('down races', () => {
  it('two downs at once while a service is starting: both succeed, the up ends, nothing is left in /proc', async () => {
    // slow never answers its readiness probe: it stays `starting` until stopped.
    const fx = await fixture({
      'serve.mjs': SERVE,
      'portbroker.config.json': config({
        name: 'dr-starting',
        services: {
          api: { command: 'node serve.mjs' },
          slow: { command: 'node -e "setInterval(() => {}, 1000)"', ready: { http: '/health', timeoutMs: 120_000 } },
        },
      }),
    });
    const up = fx.start(['up']);
    await until(() => serviceRecord(fx, 'slow')?.state === 'starting' && serviceRecord(fx, 'api')?.state === 'running', 'slow starting, api running');
    const slowPid = serviceRecord(fx, 'slow')!.pid!;
    const [a, b] = await Promise.all([fx.run(['down', '--json']), fx.run(['down', '--json'])]);
    expect([a.code, b.code, a.stderr, b.stderr]).toEqual([0, 0, '', '']);
    const results = [a, b].map((r) => JSON.parse(r.stdout) as { supervisors: number[]; services: string[] });
    // Each names the supervisor it stopped (or found already stopping); neither errs.
    for (const r of results) expect(r.supervisors.every((pid) => pid === up.child.pid)).toBe(true);
    expect(results.some((r) => r.services.includes('slow'))).toBe(true);
    expect((await up.exited).code).toBe(0);
    expect(alive(slowPid)).toBe(false);
    expect(fixtureProcesses(fx)).toEqual([]);
    expect(serviceRecord(fx, 'slow')).toMatchObject({ state: 'stopped' });
  });
});
