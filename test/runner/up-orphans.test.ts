import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/cli.js';
import { alive, config, fixtureProcesses, get, SERVE, serviceRecord } from './helpers.js';

describe('portbroker up: orphans and other supervisors of one checkout', () => {
  it('the next up ends what a SIGKILLed up left running, then starts cleanly', async () => {
    const fx = await fixture({
      'serve.mjs': SERVE,
      'portbroker.config.json': config({
        services: { api: { command: 'node serve.mjs --child' }, web: { command: 'node serve.mjs --child', dependsOn: ['api'] } },
      }),
    });
    const first = fx.start(['up']);
    const out = await first.waitFor(/SERVICE\s+PORT/);
    const grandchildren = [...out.matchAll(/grandchild (\d+)/g)].map((m) => Number(m[1]));
    const leaders = [serviceRecord(fx, 'api')!.pid!, serviceRecord(fx, 'web')!.pid!];
    first.child.kill('SIGKILL');
    await first.exited;

    // Orphaned: still running, still holding their ports, recorded as running by a supervisor that is gone.
    expect([...leaders, ...grandchildren].every(alive)).toBe(true);
    const doctor = await fx.run(['doctor', '--json']);
    expect(JSON.parse(doctor.stdout).find((c: { id: string }) => c.id === 'orphans').status).toBe('warn');

    const second = fx.start(['up']);
    const again = await second.waitFor(/SERVICE\s+PORT/);
    expect(again).toMatch(new RegExp(`ended \\d+ processes of api, web left running by a portbroker that was killed \\(pid ${first.child.pid}\\)`));
    expect([...leaders, ...grandchildren].some(alive)).toBe(false);
    // Started cleanly, on the same ports.
    expect(again).toMatch(/web\s+\d+\s+\S+\s+running/);
    const port = serviceRecord(fx, 'web')!.port;
    expect((await get(port, '/')).body).toBe('this is web');
    expect(serviceRecord(fx, 'web')!.owner).toBe(second.child.pid);
    expect((await second.stop()).code).toBe(0);
    expect(fixtureProcesses(fx)).toEqual([]);
  });

  it('a second up of a running checkout starts nothing twice, and `up web` there uses the api already running', async () => {
    const fx = await fixture({
      'serve.mjs': SERVE,
      'portbroker.config.json': config({
        services: { api: { command: 'node serve.mjs' }, web: { command: 'node serve.mjs', dependsOn: ['api'] } },
      }),
    });
    const first = fx.start(['up', 'api']);
    await first.waitFor(/SERVICE\s+PORT/);
    // A second `up api` starts nothing: it attaches to the running one (SIGKILL lets go without stopping it).
    const again = fx.start(['up', 'api']);
    await again.waitFor(new RegExp(`attached to portbroker pid ${first.child.pid}`));
    expect(again.stdout).toMatch(new RegExp(`api\\s+\\d+\\s+\\S+\\s+running \\(portbroker pid ${first.child.pid}\\)`));
    again.child.kill('SIGKILL');
    await again.exited;

    const second = fx.start(['up', 'web']);
    const out = await second.waitFor(/SERVICE\s+PORT/);
    expect(out).toMatch(/api already runs under another portbroker/);
    expect(out).toMatch(/web\s+\d+\s+\S+\s+running$/m);
    expect(serviceRecord(fx, 'web')!.owner).toBe(second.child.pid);
    expect(serviceRecord(fx, 'api')!.owner).toBe(first.child.pid);
    expect((await second.stop()).code).toBe(0);
    // The first up's service is untouched.
    expect(serviceRecord(fx, 'api')).toMatchObject({ state: 'running', owner: first.child.pid });
    expect((await get(serviceRecord(fx, 'api')!.port, '/')).body).toBe('this is api');
    expect((await first.stop()).code).toBe(0);
    expect(fixtureProcesses(fx)).toEqual([]);
  });
});
