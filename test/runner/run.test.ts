import { describe, expect, it } from 'vitest';
import { fixture, freePort } from '../helpers/cli.js';
import { insertRunSeparator } from '../../src/cli/run-argv.js';
import { config, get, readRegistry, SERVE, serviceRecord, viaProxy } from './helpers.js';

/** Serves on the port given as its first argument, and says what it got. */
const ARG_SERVER = `
import http from 'node:http';
const port = Number(process.argv[2]);
http.createServer((q, r) => r.end('files on ' + port + ' PORT=' + process.env.PORT)).listen(port, '127.0.0.1', () => console.log('serving on ' + port));
process.on('SIGTERM', () => process.exit(0));
`;

describe('portbroker run', () => {
  it('runs one command without a config: {port} becomes the port, the folder is the project, the proxy routes it', async () => {
    const fx = await fixture({ 'package.json': '{"name": "@me/rt-scratch"}', 'files.mjs': ARG_SERVER });
    const run = fx.start(['run', 'files', '--', 'node', 'files.mjs', '{port}']);
    const out = await run.waitFor(/files → http:\/\/files\.rt-scratch\.localhost:\d+ \(port \d+\)/);
    const port = Number(/serving on (\d+)/.exec(out)![1]);
    // Unprefixed: the command's own output, as if run by hand.
    expect(run.stdout).toMatch(/^serving on \d+$/m);
    expect(serviceRecord(fx, 'files')).toMatchObject({ port, state: 'running', owner: run.child.pid });
    const checkout = Object.values(readRegistry(fx).checkouts)[0]!;
    expect(checkout).toMatchObject({ project: 'rt-scratch', root: fx.root });
    expect(checkout.configFile).toBeUndefined();
    expect(await viaProxy(fx, 'files.rt-scratch.localhost')).toEqual({ status: 200, body: `files on ${port} PORT=${port}` });
    // The same port next time.
    expect((await run.stop()).code).toBe(0);
    expect(serviceRecord(fx, 'files')?.state).toBe('stopped');
    const again = fx.start(['run', 'files', '--', 'node', 'files.mjs', '{port}']);
    expect(await again.waitFor(/serving on (\d+)/)).toContain(`serving on ${port}`);
    expect((await again.stop()).code).toBe(0);
  });

  it('ends with the command, with its exit status', async () => {
    const fx = await fixture({});
    const result = await fx.run(['run', 'job', '--', 'node -e "console.log(process.env.PORT); process.exit(3)"'], { timeoutMs: 30_000 });
    expect(result.code).toBe(3);
    expect(result.stdout).toMatch(/^\d+$/m);
    expect(result.stderr).toMatch(/job exited with code 3 before it was ready/);
  });

  it('keeps a command that never listens running, and ends with it', async () => {
    // The config lends `job` a short readiness timeout.
    const fx = await fixture({ 'portbroker.config.json': config({ name: 'rt-job', services: { job: { ready: { timeoutMs: 300 } } } }) });
    const result = await fx.run(['run', 'job', '--', 'sleep 1; echo "tests passed on $PORT"'], { timeoutMs: 30_000 });
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/job has not listened on port \d+ within 0\.3 s \(nothing accepted connections on port \d+\); it keeps running/);
    expect(result.stdout).toMatch(/^tests passed on \d+$/m);
  });

  it('takes the command without "--" when the first word after the name and its flags starts it', async () => {
    const fx = await fixture({ 'files.mjs': ARG_SERVER });
    const port = await freePort();
    // node's own flag after the command word is the command's, not portbroker's.
    const run = fx.start(['run', 'files', '--port', String(port), 'node', '--no-warnings', 'files.mjs', '{port}']);
    await run.waitFor(new RegExp(`serving on ${port}`));
    expect((await get(port, '/')).body).toBe(`files on ${port} PORT=${port}`);
    expect((await run.stop()).code).toBe(0);
    expect(insertRunSeparator(['run', 'web', 'python3', '-m', 'http.server', '{port}'])).toEqual(['run', 'web', '--', 'python3', '-m', 'http.server', '{port}']);
    expect(insertRunSeparator(['--cwd', 'x', 'run', '--port', '1', 'web', '--https', 'a', '-b'])).toEqual(['--cwd', 'x', 'run', '--port', '1', 'web', '--https', '--', 'a', '-b']);
    expect(insertRunSeparator(['run', 'web', '--', 'a', '-b'])).toEqual(['run', 'web', '--', 'a', '-b']);
    expect(insertRunSeparator(['up', 'run', 'x'])).toEqual(['up', 'run', 'x']);
  });

  it('--port pins the port', async () => {
    const fx = await fixture({ 'files.mjs': ARG_SERVER });
    const port = await freePort();
    const run = fx.start(['run', 'files', '--port', String(port), '--', 'node', 'files.mjs', '{port}']);
    await run.waitFor(new RegExp(`serving on ${port}`));
    expect(serviceRecord(fx, 'files')).toMatchObject({ port, pinned: true });
    expect((await get(port, '/')).body).toBe(`files on ${port} PORT=${port}`);
    expect((await run.stop()).code).toBe(0);
  });

  it('inside a configured project: joins it (its variables) and runs beside `up`', async () => {
    const fx = await fixture({
      'serve.mjs': SERVE,
      'portbroker.config.json': config({ name: 'rt-shop', services: { api: { command: 'node serve.mjs' } } }),
    });
    const up = fx.start(['up']);
    await up.waitFor(/SERVICE\s+PORT/);
    const run = fx.start(['run', 'extra', '--', 'node serve.mjs']);
    await run.waitFor(/extra → /);
    const extraPort = serviceRecord(fx, 'extra')!.port;
    const env = JSON.parse((await get(extraPort, '/env')).body) as Record<string, string>;
    expect(env).toMatchObject({ PORTBROKER_PROJECT: 'rt-shop', PORTBROKER_SERVICE: 'extra', API_PORT: String(serviceRecord(fx, 'api')!.port) });
    const checkout = Object.values(readRegistry(fx).checkouts)[0]!;
    expect(checkout.ownerPid).toBe(up.child.pid);
    expect(serviceRecord(fx, 'extra')!.owner).toBe(run.child.pid);

    expect((await run.stop()).code).toBe(0);
    // up and its service are untouched.
    expect(serviceRecord(fx, 'api')).toMatchObject({ state: 'running', owner: up.child.pid });
    expect(Object.values(readRegistry(fx).checkouts)[0]!.ownerPid).toBe(up.child.pid);
    expect((await get(serviceRecord(fx, 'api')!.port, '/')).body).toBe('this is api');
    expect((await up.stop()).code).toBe(0);
  });

  // Many CLI runs in sequence (each a Node start-up): more time than one command's test on a loaded machine.
  it('beside a config: the ad-hoc service is known to ls, port, url, env and release, and a config that declares it takes it over', { timeout: 180_000 }, async () => {
    const fx = await fixture({
      'files.mjs': ARG_SERVER,
      'portbroker.config.json': config({ name: 'rt-adhoc', services: { api: {} } }),
    });
    const run = fx.start(['run', 'extra', '--', 'node', 'files.mjs', '{port}']);
    await run.waitFor(/extra → /);
    const port = serviceRecord(fx, 'extra')!.port;
    expect(serviceRecord(fx, 'extra')).toMatchObject({ adHoc: true });
    const check = async (state: string, doctor = false) => {
      const rows = JSON.parse((await fx.run(['ls', '--json'])).stdout) as Array<{ service: string; kind: string; state: string; port: number }>;
      expect(rows.map((r) => [r.service, r.kind])).toEqual([['api', 'service'], ['extra', 'ad-hoc']]);
      expect(rows[1]).toMatchObject({ port, state });
      expect((await fx.run(['ls'])).stdout).toMatch(new RegExp(`extra \\(ad hoc\\)\\s+${port}`));
      expect((await fx.run(['port', 'extra'])).stdout.trim()).toBe(String(port));
      expect((await fx.run(['url', 'extra'])).stdout.trim()).toBe(`http://extra.rt-adhoc.localhost:${fx.proxyPort}`);
      const env = JSON.parse((await fx.run(['env', 'extra', '--json'])).stdout) as Record<string, string>;
      expect(env).toMatchObject({ PORT: String(port), PORTBROKER_SERVICE: 'extra' });
      if (!doctor) return;
      const checks = JSON.parse((await fx.run(['doctor', '--json'])).stdout) as Array<{ id: string; status: string }>;
      expect(checks.find((c) => c.id === 'stale-reservations')?.status).toBe('ok');
    };
    await check('running', true);
    // While it runs its port is kept; once it ended, release drops it.
    expect((await fx.run(['release', 'extra'])).stdout).toMatch(/kept|running/);
    expect((await run.stop()).code).toBe(0);
    await check('stopped');
    expect((await fx.run(['release', 'extra'])).stdout).toContain(`released rt-adhoc/extra (port ${port})`);
    expect(serviceRecord(fx, 'extra')).toBeUndefined();

    // Recorded again, then declared in the config: the config's service now, with the same port.
    const again = fx.start(['run', 'extra', '--', 'node', 'files.mjs', '{port}']);
    await again.waitFor(/extra → /);
    expect((await again.stop()).code).toBe(0);
    const kept = serviceRecord(fx, 'extra')!.port;
    fx.write('portbroker.config.json', config({ name: 'rt-adhoc', services: { api: {}, extra: { command: 'node files.mjs {port}' } } }));
    const rows = JSON.parse((await fx.run(['ls', '--json'])).stdout) as Array<{ service: string; kind: string; port: number }>;
    expect(rows.find((r) => r.service === 'extra')).toMatchObject({ kind: 'service', port: kept });
    expect(serviceRecord(fx, 'extra')!.adHoc).toBeUndefined();
  });

  it('refuses a missing command and a bad name (status 2)', async () => {
    const fx = await fixture({});
    const missing = await fx.run(['run', 'files']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/run needs a command after "--"\n\s+e\.g\. portbroker run files -- python3 -m http\.server \{port\}/);
    const bad = await fx.run(['run', 'Bad_Name', '--', 'true']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/"Bad_Name" is not a valid service name/);
  });
});
