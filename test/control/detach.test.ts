import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/cli.js';
import { alive, config, fixtureProcesses, SERVE, serviceRecord, until, get } from '../runner/helpers.js';

/** `up -d`: services under a background portbroker; `ls` from another folder; attach; down; a SIGKILLed one. */

const project = (name: string) => config({ name, services: { api: { command: 'node serve.mjs' }, web: { command: 'node serve.mjs', dependsOn: ['api'] } } });

describe('up -d', () => {
  it('returns once the services are up; ls from another folder sees them; a plain up attaches; down ends all', async () => {
    const fx = await fixture({ 'serve.mjs': SERVE, 'portbroker.config.json': project('dt') });
    mkdirSync(path.join(fx.root, 'apps', 'web'), { recursive: true });
    const started = await fx.run(['up', '-d'], { timeoutMs: 60_000 });
    expect(started.code).toBe(0);
    expect(started.stdout).toMatch(/api\s+\d+\s+\S+\s+running/);
    expect(started.stdout).toMatch(/web\s+\d+\s+\S+\s+running/);
    const supervisor = Number(/running in the background \(portbroker pid (\d+)\)/.exec(started.stderr)?.[1]);
    expect(alive(supervisor)).toBe(true);
    // Where the dashboard is, once, as a foreground up says it.
    const dashboard = `dashboard http://portbroker.localhost:${fx.proxyPort}/`;
    expect(started.stderr.split(dashboard).length - 1).toBe(1);

    const ls = JSON.parse((await fx.run(['ls', '--json'], { cwd: path.join(fx.root, 'apps', 'web') })).stdout) as Array<{ service: string; state: string; supervisor: number }>;
    expect(ls.map((r) => [r.service, r.state, r.supervisor])).toEqual([
      ['api', 'running', supervisor],
      ['web', 'running', supervisor],
    ]);
    expect(await get(serviceRecord(fx, 'web')!.port)).toEqual({ status: 200, body: 'this is web' });

    // A second up -d has nothing to run: it says which portbroker runs them and how to stop them, and claims no
    // background portbroker of its own.
    const again = await fx.run(['up', '-d'], { timeoutMs: 60_000 });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain(`already running (portbroker pid ${supervisor}): portbroker logs -f follows them, portbroker down stops them`);
    expect(again.stderr).not.toContain('running in the background');
    expect(again.stderr).toContain('stop them with `portbroker down`');

    // A plain up attaches: the table, then new output; Ctrl-C stops the project.
    const attached = fx.start(['up']);
    await attached.waitFor(/attached to portbroker pid \d+/);
    expect(attached.stdout).toMatch(/api\s+\d+\s+\S+\s+running \(portbroker pid \d+\)/);
    const apiPid = serviceRecord(fx, 'api')!.pid!;
    expect((await fx.run(['restart', 'api'])).code).toBe(0);
    await attached.waitFor(/api\s+│ api listening/);
    expect(alive(apiPid)).toBe(false);
    attached.child.kill('SIGINT');
    expect((await attached.exited).code).toBe(0);
    await until(() => !alive(supervisor), 'background supervisor gone');
    expect(fixtureProcesses(fx)).toEqual([]);
  });

  it('a SIGKILLed background supervisor: the next up ends what it left and starts afresh', async () => {
    const fx = await fixture({ 'serve.mjs': SERVE, 'portbroker.config.json': project('dk') });
    const started = await fx.run(['up', '-d'], { timeoutMs: 60_000 });
    expect(started.code).toBe(0);
    const supervisor = Number(/portbroker pid (\d+)/.exec(started.stderr)?.[1]);
    const left = [serviceRecord(fx, 'api')!.pid!, serviceRecord(fx, 'web')!.pid!];
    process.kill(supervisor, 'SIGKILL');
    await until(() => !alive(supervisor), 'supervisor killed');
    expect(left.every(alive)).toBe(true);

    // Run as `npx portbroker up -d` is (npm exec): its hints name commands the same way.
    const again = await fx.run(['up', '-d'], { timeoutMs: 60_000, env: { npm_command: 'exec' } });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('npx portbroker logs -f follows them, npx portbroker down stops them');
    expect(again.stderr).toMatch(/ended \d+ process(es)? of api, web left running by a portbroker that was killed/);
    expect(left.some(alive)).toBe(false);
    expect((await fx.run(['down'])).code).toBe(0);
    expect(fixtureProcesses(fx)).toEqual([]);
  });
});
