import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/cli.js';
import { alive, config, fixtureProcesses, SERVE, serviceRecord, until, viaProxy } from '../runner/helpers.js';

/**
 * restart, stop, start and down from another terminal, against a real `up` and real services: each acts
 * through the supervisor's control socket and says what it did.
 */

const project = (name: string) =>
  config({
    name,
    services: {
      api: { command: 'node serve.mjs' },
      web: { command: 'node serve.mjs', dependsOn: ['api'] },
    },
  });

describe('restart, stop, start, down', () => {
  it('restart gives a new pid on the same port, from a subfolder; two at once are both answered; others keep their pid', async () => {
    const fx = await fixture({ 'serve.mjs': SERVE, 'portbroker.config.json': project('ct-restart') });
    mkdirSync(path.join(fx.root, 'packages', 'deep'), { recursive: true });
    const up = fx.start(['up']);
    await up.waitFor(/SERVICE\s+PORT/);
    const before = serviceRecord(fx, 'api')!;
    const webPid = serviceRecord(fx, 'web')!.pid;

    const result = await fx.run(['restart', 'api', '--json'], { cwd: path.join(fx.root, 'packages', 'deep') });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const [restarted] = JSON.parse(result.stdout) as Array<{ service: string; state: string; pid: number; previousPid: number; port: number }>;
    expect(restarted).toMatchObject({ service: 'api', action: 'restart', state: 'running', previousPid: before.pid, port: before.port, supervisor: up.child.pid });
    expect(restarted!.pid).not.toBe(before.pid);
    expect(alive(before.pid!)).toBe(false);
    expect(serviceRecord(fx, 'api')).toMatchObject({ state: 'running', pid: restarted!.pid, port: before.port, restarts: 1 });
    // Dependents are left running.
    expect(serviceRecord(fx, 'web')!.pid).toBe(webPid);
    // ls, from another folder: uptime, restarts and the supervisor of each running service.
    const ls = await fx.run(['ls', '--json'], { cwd: path.join(fx.root, 'packages', 'deep') });
    const rows = JSON.parse(ls.stdout) as Array<{ service: string; restarts: number; supervisor: number; uptimeSeconds: number; startedAt: string }>;
    expect(rows.find((r) => r.service === 'api')).toMatchObject({ restarts: 1, supervisor: up.child.pid, pid: restarted!.pid });
    expect(rows.find((r) => r.service === 'web')).toMatchObject({ restarts: 0, supervisor: up.child.pid });
    expect(rows.every((r) => typeof r.uptimeSeconds === 'number' && !Number.isNaN(Date.parse(r.startedAt)))).toBe(true);
    const table = (await fx.run(['ls'])).stdout;
    expect(table).toMatch(/SERVICE\s+PORT\s+URL\s+STATE\s+PID\s+UPTIME\s+RESTARTS\s+SUPERVISOR/);
    expect(table).toMatch(new RegExp(`api\\s+\\d+\\s+\\S+\\s+running\\s+${restarted!.pid}\\s+\\d+s\\s+1\\s+${up.child.pid}`));
    expect(await viaProxy(fx, 'api.ct-restart.localhost')).toEqual({ status: 200, body: 'this is api' });

    const [a, b] = await Promise.all([fx.run(['restart', 'api']), fx.run(['restart', 'api'])]);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(a.stdout + b.stdout).toMatch(/restarted api \(pid \d+, was \d+\)[\s\S]*restarted api \(pid \d+, was \d+\)/);
    expect(serviceRecord(fx, 'api')).toMatchObject({ state: 'running', restarts: 3 });
    expect(up.stderr).toMatch(/restarting api/);
    expect((await up.stop()).code).toBe(0);
  });

  it('an unknown name is a usage error with a did-you-mean; nothing is done', async () => {
    const fx = await fixture({ 'serve.mjs': SERVE, 'portbroker.config.json': project('ct-names') });
    const result = await fx.run(['restart', 'apj']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown service "apj" in .*portbroker\.config\.json \(did you mean "api"\?\)/);
  });

  it('without a running up, restart and start exit 1 and say to run up; a killed up is named as gone', async () => {
    const fx = await fixture({ 'serve.mjs': SERVE, 'portbroker.config.json': project('ct-none') });
    const none = await fx.run(['restart', 'api']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/api is not running under any portbroker\n {2}start it with `portbroker up api`/);

    const up = fx.start(['up']);
    await up.waitFor(/SERVICE\s+PORT/);
    up.child.kill('SIGKILL');
    await until(() => !alive(up.child.pid!), 'up gone');
    const gone = await fx.run(['start', 'web']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`web is not running: the portbroker that ran it (pid ${up.child.pid}) is gone`);
    // down ends what the killed supervisor left.
    const down = await fx.run(['down', '--json']);
    expect(down.code).toBe(0);
    expect((JSON.parse(down.stdout) as { orphans: number[] }).orphans.length).toBeGreaterThan(0);
    expect(fixtureProcesses(fx)).toEqual([]);
  });

  it('stop: the proxy page says stopped and names `portbroker start` as up was run; start: 200 again; the up keeps running', async () => {
    const fx = await fixture({ 'serve.mjs': SERVE, 'portbroker.config.json': project('ct-stop') });
    // Run as `npx portbroker up` is (npm exec): the proxy's page names commands the same way.
    const up = fx.start(['up'], { env: { npm_command: 'exec' } });
    await up.waitFor(/SERVICE\s+PORT/);
    const pid = serviceRecord(fx, 'web')!.pid!;
    const stopped = await fx.run(['stop', 'web']);
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toContain(`stopped web (pid ${pid})`);
    expect(alive(pid)).toBe(false);
    // Answered once recorded: an ls right after the stop sees it stopped.
    expect(serviceRecord(fx, 'web')?.state).toBe('stopped');
    const page = await viaProxy(fx, 'web.ct-stop.localhost');
    expect(page.status).toBe(502);
    expect(page.body).toContain('stopped');
    expect(page.body).toMatch(/&amp;&amp; npx portbroker start web/);
    // Stopping every service does not end the up: it waits to start them again.
    expect((await fx.run(['stop'])).code).toBe(0);
    expect(alive(up.child.pid!)).toBe(true);
    // A restart of a stopped service starts it, and says so.
    const restarted = await fx.run(['restart', 'api']);
    expect(restarted.code).toBe(0);
    expect(restarted.stdout).toMatch(/^started api \(pid \d+\) · port \d+$/m);
    expect(restarted.stdout).not.toContain('restarted');

    const started = await fx.run(['start', 'web', '--json']);
    expect(started.code).toBe(0);
    expect(JSON.parse(started.stdout)).toMatchObject([{ service: 'web', action: 'start', state: 'running' }]);
    expect(await viaProxy(fx, 'web.ct-stop.localhost')).toEqual({ status: 200, body: 'this is web' });
    expect((await up.stop()).code).toBe(0);
  });

  it('down stops the services and the up from another folder; nothing is left in /proc', async () => {
    const fx = await fixture({ 'serve.mjs': SERVE, 'portbroker.config.json': project('ct-down') });
    const up = fx.start(['up']);
    await up.waitFor(/SERVICE\s+PORT/);
    const result = await fx.run(['down']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`stopped api, web and portbroker pid ${up.child.pid} \\(ct-down\\); reservations stay`));
    expect((await up.exited).code).toBe(0);
    expect(fixtureProcesses(fx)).toEqual([]);
    expect(serviceRecord(fx, 'api')).toMatchObject({ state: 'stopped' });
    const again = await fx.run(['down']);
    expect(again).toMatchObject({ code: 0, stdout: 'nothing runs for ct-down\n' });
  });
});
