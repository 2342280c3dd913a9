import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/cli.js';
import { alive, config, SERVE, serviceRecord, viaProxy } from '../runner/helpers.js';

interface Row {
  service: string;
  state: string;
  pid: number | null;
}

describe('one truth about an orphaned service (issue 7, item 6)', () => {
  it('after up is SIGKILLed, ls, ls --all, doctor and the proxy all say orphaned, and the proxy keeps routing to it', async () => {
    const fx = await fixture({
      'serve.mjs': SERVE,
      'portbroker.config.json': config({ name: 'orph-acme', services: { web: { command: 'node serve.mjs' } } }),
    });
    const up = fx.start(['up']);
    await up.waitFor(/SERVICE\s+PORT/);
    const pid = serviceRecord(fx, 'web')!.pid!;
    expect((await viaProxy(fx, 'web.orph-acme.localhost')).body).toBe('this is web');
    up.child.kill('SIGKILL');
    await up.exited;
    expect(alive(pid)).toBe(true);

    for (const args of [['ls', '--json'], ['ls', '--all', '--json']]) {
      const rows = JSON.parse((await fx.run(args)).stdout) as Row[];
      expect(rows.find((r) => r.service === 'web')).toMatchObject({ state: 'orphaned', pid });
    }
    expect((await fx.run(['ls'])).stdout).toMatch(new RegExp(`web\\s+\\d+\\s+\\S+\\s+orphaned\\s+${pid}`));
    const doctor = JSON.parse((await fx.run(['doctor', '--json'])).stdout) as Array<{ id: string; status: string; message: string }>;
    expect(doctor.find((c) => c.id === 'orphans')).toMatchObject({ status: 'warn', message: expect.stringContaining(`orph-acme/web (process group ${pid})`) });
    const status = JSON.parse((await fx.run(['proxy', 'status', '--json'])).stdout) as { routes: Array<{ host: string; state: string }> };
    expect(status.routes.find((r) => r.host === 'web.orph-acme.localhost')).toMatchObject({ state: 'orphaned' });
    // The orphan still serves, so the proxy still routes to it (it used to answer 502 "not running").
    const page = await viaProxy(fx, 'web.orph-acme.localhost');
    expect(page).toEqual({ status: 200, body: 'this is web' });
    // `release` keeps a port something still serves on.
    const release = await fx.run(['release', 'web', '--json']);
    expect(release.stdout).toContain('"kept"');
    expect(serviceRecord(fx, 'web')).toBeDefined();

    // The next up ends it and takes over: then everything says running again.
    const next = fx.start(['up']);
    await next.waitFor(/SERVICE\s+PORT/);
    expect(alive(pid)).toBe(false);
    const rows = JSON.parse((await fx.run(['ls', '--json'])).stdout) as Row[];
    expect(rows.find((r) => r.service === 'web')).toMatchObject({ state: 'running' });
    expect((await next.stop()).code).toBe(0);
  });
});
