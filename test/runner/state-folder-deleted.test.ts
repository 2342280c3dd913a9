import { readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/cli.js';
import { config, SERVE, serviceRecord, until, viaProxy } from './helpers.js';

describe('the state folder deleted under a running up (issue 7, item 7)', () => {
  it('up says so in one line, recreates it, publishes its services on the same ports and brings the proxy back', async () => {
    const fx = await fixture({
      'serve.mjs': SERVE,
      'portbroker.config.json': config({ name: 'sfdel', services: { api: { command: 'node serve.mjs' }, web: { command: 'node serve.mjs', dependsOn: ['api'] } } }),
    });
    const up = fx.start(['up']);
    await up.waitFor(/SERVICE\s+PORT/);
    const ports = { api: serviceRecord(fx, 'api')!.port, web: serviceRecord(fx, 'web')!.port };
    expect((await viaProxy(fx, 'web.sfdel.localhost')).body).toBe('this is web');

    rmSync(fx.home, { recursive: true, force: true });
    await up.waitFor(/the state folder .* was deleted: recreating it, publishing api, web again on the same ports, restarting the proxy/, 15_000);
    await until(() => serviceRecord(fx, 'web')?.state === 'running' && serviceRecord(fx, 'api')?.state === 'running', 'the services published again');
    expect(statSync(fx.home).mode & 0o777).toBe(0o700);
    expect(serviceRecord(fx, 'api')).toMatchObject({ port: ports.api, owner: up.child.pid });
    expect(serviceRecord(fx, 'web')).toMatchObject({ port: ports.web, owner: up.child.pid });
    const answers = async () => (await viaProxy(fx, 'web.sfdel.localhost').catch(() => ({ body: '' }))).body === 'this is web';
    await until(answers, 'the proxy to answer again', 20_000);
    expect((await viaProxy(fx, 'api.sfdel.localhost')).body).toBe('this is api');

    // ls agrees: running, on the ports they always had (it used to show them reserved on new ports).
    const rows = JSON.parse((await fx.run(['ls', '--json'])).stdout) as Array<{ service: string; port: number; state: string }>;
    expect(rows.map((r) => [r.service, r.port, r.state])).toEqual([
      ['api', ports.api, 'running'],
      ['web', ports.web, 'running'],
    ]);
    expect((up.stdout + up.stderr).match(/was deleted/g)).toHaveLength(1);
    expect((await up.stop()).code).toBe(0);
  });

  it('the proxy comes back for the services the up runs now: a config edit added the first one it routes', async () => {
    const db = { command: 'node serve.mjs', proxy: false };
    const fx = await fixture({ 'serve.mjs': SERVE, 'portbroker.config.json': config({ name: 'sfadd', services: { db } }) });
    const up = fx.start(['up']);
    await up.waitFor(/SERVICE\s+PORT/);
    fx.write('portbroker.config.json', config({ name: 'sfadd', services: { db, web: { command: 'node serve.mjs' } } }));
    await up.waitFor(/applied portbroker\.config\.json: added web/);
    const answers = async () => (await viaProxy(fx, 'web.sfadd.localhost').catch(() => ({ body: '' }))).body === 'this is web';
    await until(answers, 'the proxy started for web');

    // The proxy stops once it finds its state folder gone (unless the folder is back by then): here it is gone.
    // It answers a moment before it writes its pid file.
    const proxy = await until(() => {
      try {
        return JSON.parse(readFileSync(path.join(fx.home, 'proxy.json'), 'utf8')) as { pid: number };
      } catch {
        return undefined;
      }
    }, 'the proxy pid file');
    rmSync(fx.home, { recursive: true, force: true });
    process.kill(proxy.pid, 'SIGKILL');
    await up.waitFor(/the state folder .* was deleted/, 15_000);
    await until(answers, 'the proxy to answer again', 20_000);
    expect((await up.stop()).code).toBe(0);
  });
});
