import { renameSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, type Fixture } from '../helpers/cli.js';
import { alive, config, fixtureProcesses, readRegistry, SERVE, serviceRecord, until, viaProxy } from '../runner/helpers.js';

/**
 * Live config reload against a real `up`: a saved edit restarts only what it changed, starts what it added,
 * stops and releases what it removed; a bad edit changes nothing and says why in one line; `--no-watch` ignores
 * edits. Edits are written as editors save (a new file renamed over the old one) and in place.
 */

const services = (extra: Record<string, unknown> = {}) => ({
  api: { command: 'node serve.mjs' },
  web: { command: 'node serve.mjs', dependsOn: ['api'] },
  docs: { command: 'node serve.mjs' },
  ...extra,
});

/** The config as a TypeScript module, as most users write it (the edit goes through the bundle cache). */
const tsConfig = (name: string, value: Record<string, unknown>) =>
  `import { defineConfig } from 'portbroker';\nexport default defineConfig(${JSON.stringify({ name, services: value }, null, 2)});\n`;

const pids = (fx: Fixture, names: string[]) => Object.fromEntries(names.map((n) => [n, serviceRecord(fx, n)?.pid]));

/** Saves like vim or a JetBrains IDE: writes a new file and renames it over the config. */
function saveByRename(fx: Fixture, file: string, content: string): void {
  renameSync(fx.write(`${file}.tmp~`, content), path.join(fx.root, file));
}

describe('live config reload', () => {
  it('restarts only the changed service, starts an added one, stops and releases a removed one', async () => {
    const fx = await fixture({ 'serve.mjs': SERVE, 'portbroker.config.ts': tsConfig('lr-apply', services()) });
    fx.write('node_modules/portbroker/package.json', JSON.stringify({ name: 'portbroker', type: 'module', main: 'index.js' }));
    fx.write('node_modules/portbroker/index.js', 'export const defineConfig = (c) => c;\n');
    const up = fx.start(['up']);
    await up.waitFor(/SERVICE\s+PORT/);
    const before = pids(fx, ['api', 'web', 'docs']);
    const apiPort = serviceRecord(fx, 'api')!.port;

    // api gets a new env value; docs is removed; worker is added.
    const { docs: _docs, ...rest } = services({ worker: { command: 'node serve.mjs' } });
    saveByRename(fx, 'portbroker.config.ts', tsConfig('lr-apply', { ...rest, api: { command: 'node serve.mjs', env: { GREETING: 'hello' } } }));
    await up.waitFor(/applied .*portbroker\.config\.ts: restarted api; added worker; removed docs/);

    const after = pids(fx, ['api', 'web', 'worker']);
    expect(after.api).not.toBe(before.api);
    expect(alive(before.api!)).toBe(false);
    expect(serviceRecord(fx, 'api')).toMatchObject({ state: 'running', port: apiPort });
    expect(after.web).toBe(before.web);
    expect(alive(before.web!)).toBe(true);
    // The new spec is what runs.
    const env = JSON.parse((await viaProxy(fx, 'api.lr-apply.localhost', '/env')).body) as Record<string, string>;
    expect(env.GREETING).toBe('hello');
    // Added: reserved, started, routed.
    expect(serviceRecord(fx, 'worker')).toMatchObject({ state: 'running' });
    expect(await viaProxy(fx, 'worker.lr-apply.localhost')).toEqual({ status: 200, body: 'this is worker' });
    // Removed: its process is gone, its reservation and route too.
    expect(alive(before.docs!)).toBe(false);
    expect(readRegistry(fx).checkouts[fx.root]?.services.docs).toBeUndefined();
    expect((await viaProxy(fx, 'docs.lr-apply.localhost')).status).toBe(404);
    expect(fixtureProcesses(fx).some((p) => p.cmdline.includes('serve.mjs') && Number(p.pid) === before.docs)).toBe(false);
    const ls = JSON.parse((await fx.run(['ls', '--json'])).stdout) as Array<{ service: string; state: string }>;
    expect(ls.map((r) => r.service).sort()).toEqual(['api', 'web', 'worker']);

    // An edit that changes no spec restarts nothing, and says so.
    fx.write('portbroker.config.ts', tsConfig('lr-apply', { ...rest, api: { command: 'node serve.mjs', env: { GREETING: 'hello' } } }) + '// a comment\n');
    await up.waitFor(/no service's spec changed, nothing restarted/);
    expect(pids(fx, ['api', 'web', 'worker'])).toEqual(after);

    expect((await up.stop()).code).toBe(0);
    expect(fixtureProcesses(fx)).toEqual([]);
  });

  it('a bad edit (syntax, cycle, busy pinned port, a new project name) changes nothing and says why in one line; a good one after it applies', async () => {
    const fx = await fixture({ 'serve.mjs': SERVE, 'portbroker.config.json': config({ name: 'lr-bad', services: services() }) });
    const up = fx.start(['up']);
    await up.waitFor(/SERVICE\s+PORT/);
    const before = pids(fx, ['api', 'web', 'docs']);
    const registry = JSON.stringify(readRegistry(fx).checkouts[fx.root]!.services, ['port', 'pid']);

    saveByRename(fx, 'portbroker.config.json', '{ "name": "lr-bad", "services": { ');
    await up.waitFor(/config change not applied, the services keep the previous config: .*portbroker\.config\.json/);

    saveByRename(fx, 'portbroker.config.json', config({ name: 'lr-bad', services: services({ api: { command: 'node serve.mjs', dependsOn: ['web'] } }) }));
    await up.waitFor(/config change not applied[^\n]*cycle[^\n]*\n/i);

    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    try {
      const busy = (holder.address() as net.AddressInfo).port;
      saveByRename(fx, 'portbroker.config.json', config({ name: 'lr-bad', services: services({ docs: { command: 'node serve.mjs', port: busy } }) }));
      await up.waitFor(new RegExp(`config change not applied[^\\n]*port ${busy} pinned by services\\.docs\\.port is in use`));
    } finally {
      holder.close();
    }
    // What a running up cannot change (the name every route and reservation carries) is refused before anything is reserved.
    saveByRename(fx, 'portbroker.config.json', config({ name: 'lr-renamed', services: services() }));
    await up.waitFor(/config change not applied[^\n]*the project name \(lr-bad → lr-renamed\) changed[^\n]*`portbroker down`, then `portbroker up`/);
    expect(readRegistry(fx).checkouts[fx.root]!.project).toBe('lr-bad');

    // Each refusal is one line: the next line is not a detail of it.
    const lines = up.stderr.split('\n');
    const refusals = lines.flatMap((line, i) => (line.includes('config change not applied') ? [lines[i + 1] ?? ''] : []));
    expect(refusals).toHaveLength(4);
    for (const next of refusals) expect(next).not.toMatch(/^\s/);
    expect(pids(fx, ['api', 'web', 'docs'])).toEqual(before);
    expect(JSON.stringify(readRegistry(fx).checkouts[fx.root]!.services, ['port', 'pid'])).toBe(registry);
    expect(Object.values(before).every((pid) => alive(pid!))).toBe(true);

    saveByRename(fx, 'portbroker.config.json', config({ name: 'lr-bad', services: services({ docs: { command: 'node serve.mjs', env: { X: '1' } } }) }));
    await up.waitFor(/applied .*: restarted docs/);
    expect(pids(fx, ['api', 'web'])).toEqual({ api: before.api, web: before.web });
    expect(serviceRecord(fx, 'docs')!.pid).not.toBe(before.docs);
    expect((await up.stop()).code).toBe(0);
  });

  it('a crashed service starts again when its command is fixed; --no-watch ignores edits', async () => {
    // web keeps the up running while api is down.
    const broken = { api: { command: 'node missing.mjs', restart: 'no' }, web: { command: 'node serve.mjs' } };
    const fx = await fixture({ 'serve.mjs': SERVE, 'portbroker.config.json': config({ name: 'lr-fix', services: broken }) });
    const quiet = await fixture({ 'serve.mjs': SERVE, 'portbroker.config.json': config({ name: 'lr-quiet', services: { api: { command: 'node serve.mjs' } } }) });
    const up = fx.start(['up']);
    const still = quiet.start(['up', '--no-watch']);
    await Promise.all([up.waitFor(/api exited with code 1 before it was ready/), still.waitFor(/SERVICE\s+PORT/)]);
    const quietPid = serviceRecord(quiet, 'api')!.pid;

    // Both edited at once; the watching one is the clock for the one that must not react.
    quiet.write('portbroker.config.json', config({ name: 'lr-quiet', services: { api: { command: 'node serve.mjs', env: { X: '1' } } } }));
    const webPid = serviceRecord(fx, 'web')!.pid;
    fx.write('portbroker.config.json', config({ name: 'lr-fix', services: { ...broken, api: { command: 'node serve.mjs' } } }));
    await up.waitFor(/applied .*: restarted api/);
    await until(() => serviceRecord(fx, 'api')?.state === 'running', 'api running after the fix');
    expect(await viaProxy(fx, 'api.lr-fix.localhost')).toEqual({ status: 200, body: 'this is api' });
    expect(serviceRecord(fx, 'web')!.pid).toBe(webPid);

    expect(serviceRecord(quiet, 'api')!.pid).toBe(quietPid);
    expect(still.stdout + still.stderr).not.toMatch(/applied|config change/);
    expect((await still.stop()).code).toBe(0);
    expect((await up.stop()).code).toBe(0);
  });
  it('an edit of a file the config imports is applied too', async () => {
    const fx = await fixture({
      'serve.mjs': SERVE,
      'config/api.ts': `export const api = { command: 'node serve.mjs', env: { V: '1' } };\n`,
      'portbroker.config.ts': `import { api } from './config/api';\nexport default { name: 'lr-import', services: { api, web: { command: 'node serve.mjs' } } };\n`,
    });
    const up = fx.start(['up']);
    await up.waitFor(/SERVICE\s+PORT/);
    const before = pids(fx, ['api', 'web']);
    fx.write('config/api.ts', `export const api = { command: 'node serve.mjs', env: { V: '2' } };\n`);
    await up.waitFor(/applied .*portbroker\.config\.ts: restarted api/);
    expect(serviceRecord(fx, 'web')!.pid).toBe(before.web);
    const env = JSON.parse((await viaProxy(fx, 'api.lr-import.localhost', '/env')).body) as Record<string, string>;
    expect(env.V).toBe('2');
    expect((await up.stop()).code).toBe(0);
  });
  it('an edit waits for a start under way of a service it changes (not cut short, its dependents not failed), not for starts of others', async () => {
    // api and docs listen only once their file ("go", "docs-go") exists: they stay `starting` until the test says so.
    const slow = (file: string) => `import { existsSync } from 'node:fs';\nconst wait = setInterval(() => { if (existsSync('${file}')) { clearInterval(wait); import('./serve.mjs'); } }, 25);\n`;
    const svc = (env: Record<string, string>) => ({
      api: { command: 'node slow.mjs', env },
      web: { command: 'node serve.mjs', dependsOn: ['api'] },
      docs: { command: 'node slow-docs.mjs' },
    });
    const fx = await fixture({ 'serve.mjs': SERVE, 'slow.mjs': slow('go'), 'slow-docs.mjs': slow('docs-go'), 'portbroker.config.json': config({ name: 'lr-starting', services: svc({ V: '1' }) }) });
    const up = fx.start(['up']);
    await until(() => serviceRecord(fx, 'api')?.state === 'starting' && serviceRecord(fx, 'docs')?.state === 'starting', 'api and docs starting');
    const booting = serviceRecord(fx, 'api')!.pid;
    saveByRename(fx, 'portbroker.config.json', config({ name: 'lr-starting', services: svc({ V: '2' }) }));
    await up.waitFor(/portbroker\.config\.json changed; applying it once api has finished starting/);
    // Held until api is ready: the api that boots is the one before the edit, and nothing was applied yet.
    expect(serviceRecord(fx, 'api')).toMatchObject({ state: 'starting', pid: booting });
    expect(up.stdout + up.stderr).not.toMatch(/applied/);
    fx.write('go', '');
    await up.waitFor(/applied portbroker\.config\.json: restarted api/);
    expect(up.stdout + up.stderr).not.toMatch(/web was not started|crashed/);
    await until(() => serviceRecord(fx, 'web')?.state === 'running', 'web running');
    expect(up.stderr.match(/web starting/g)).toHaveLength(1);
    const env = JSON.parse((await viaProxy(fx, 'api.lr-starting.localhost', '/env')).body) as Record<string, string>;
    expect(env.V).toBe('2');
    // docs, which the edit does not touch, is still booting: the edit did not wait for it.
    expect(serviceRecord(fx, 'docs')!.state).toBe('starting');
    fx.write('docs-go', '');
    await until(() => serviceRecord(fx, 'docs')?.state === 'running', 'docs running');
    expect((await up.stop()).code).toBe(0);
    expect(fixtureProcesses(fx)).toEqual([]);
  });

  it('services an edit adds are claimed as up claims at start: what a killed `portbroker run` left running is ended and started here, what a live one runs is used there', async () => {
    const fx = await fixture({ 'serve.mjs': SERVE, 'portbroker.config.json': config({ name: 'lr-orphan', services: { api: { command: 'node serve.mjs' } } }) });
    const up = fx.start(['up']);
    await up.waitFor(/SERVICE\s+PORT/);
    const run = fx.start(['run', 'extra', '--', 'node serve.mjs']);
    const other = fx.start(['run', 'other', '--', 'node serve.mjs']);
    await Promise.all([run.waitFor(/extra → /), other.waitFor(/other → /)]);
    const left = serviceRecord(fx, 'extra')!;
    const otherPid = serviceRecord(fx, 'other')!.pid;
    const api = serviceRecord(fx, 'api')!;
    run.child.kill('SIGKILL');
    await run.exited;
    // Orphaned: still serving on its port, recorded as running by a supervisor that is gone.
    expect(alive(left.pid!)).toBe(true);

    const added = { command: 'node serve.mjs' };
    saveByRename(fx, 'portbroker.config.json', config({ name: 'lr-orphan', services: { api: added, extra: added, other: added } }));
    const out = await up.waitFor(/applied portbroker\.config\.json: added extra, other|extra[^\n]*(exited|crashed|held|in use)/);
    expect(out).toMatch(new RegExp(`ended 1 process of extra left running by a portbroker that was killed \\(pid ${run.child.pid}\\)`));
    expect(out).toMatch(/applied portbroker\.config\.json: added extra, other/);
    expect(out).toMatch(new RegExp(`other already runs under another portbroker \\(pid ${other.child.pid}\\); using that one`));
    expect(serviceRecord(fx, 'other')).toMatchObject({ state: 'running', owner: other.child.pid, pid: otherPid });
    expect(alive(left.pid!)).toBe(false);
    // Ours now, on the port it had, and recorded as ours.
    expect(serviceRecord(fx, 'extra')).toMatchObject({ state: 'running', owner: up.child.pid, port: left.port });
    expect(serviceRecord(fx, 'extra')!.pid).not.toBe(left.pid);
    // Claiming extra left this up's own running service as it was.
    expect(serviceRecord(fx, 'api')).toMatchObject({ state: 'running', owner: up.child.pid, pid: api.pid });
    expect(await viaProxy(fx, 'extra.lr-orphan.localhost')).toEqual({ status: 200, body: 'this is extra' });
    expect((await other.stop()).code).toBe(0);
    expect((await up.stop()).code).toBe(0);
    expect(fixtureProcesses(fx)).toEqual([]);
  });

  it('up web: a dependency the edit no longer needs is stopped and keeps its port; a named service deleted from the config is refused', async () => {
    const fx = await fixture({ 'serve.mjs': SERVE, 'portbroker.config.json': config({ name: 'lr-named', services: services() }) });
    const up = fx.start(['up', 'web']);
    await up.waitFor(/SERVICE\s+PORT/);
    const api = serviceRecord(fx, 'api')!;
    saveByRename(fx, 'portbroker.config.json', config({ name: 'lr-named', services: services({ web: { command: 'node serve.mjs' } }) }));
    await up.waitFor(/applied portbroker\.config\.json: restarted web; stopped api \(no longer needed by this up; ports kept\)/);
    expect(alive(api.pid!)).toBe(false);
    expect(serviceRecord(fx, 'api')).toMatchObject({ port: api.port, state: 'stopped' });
    // The up still answers for the checkout (the proxy's on-demand starts go to it).
    expect(readRegistry(fx).checkouts[fx.root]!.ownerPid).toBe(up.child.pid);
    const { web: _web, ...withoutWeb } = services();
    saveByRename(fx, 'portbroker.config.json', config({ name: 'lr-named', services: withoutWeb }));
    await up.waitFor(/config change not applied[^\n]*unknown service "web"[^\n]*which this up was started for; run `portbroker down`, then `portbroker up` with the services to run/);
    expect(serviceRecord(fx, 'web')).toMatchObject({ state: 'running' });
    expect((await up.stop()).code).toBe(0);
  });
});

describe('live config reload under up -d', () => {
  it('the background supervisor applies an edit too', async () => {
    const fx = await fixture({ 'serve.mjs': SERVE, 'portbroker.config.json': config({ name: 'lr-detached', services: services() }) });
    const started = await fx.run(['up', '-d'], { timeoutMs: 60_000 });
    expect(started.code).toBe(0);
    const before = pids(fx, ['api', 'web', 'docs']);
    fx.write('portbroker.config.json', config({ name: 'lr-detached', services: services({ web: { command: 'node serve.mjs', dependsOn: ['api'], env: { X: '2' } } }) }));
    await until(() => serviceRecord(fx, 'web')?.state === 'running' && serviceRecord(fx, 'web')?.pid !== before.web, 'web restarted by the background supervisor');
    expect(pids(fx, ['api', 'docs'])).toEqual({ api: before.api, docs: before.docs });
    expect(alive(before.web!)).toBe(false);
    // It has no terminal: what it says about edits is in its own log stream, which logs and an attached up show.
    await until(async () => /applied portbroker\.config\.json: restarted web/.test((await fx.run(['logs', 'portbroker'])).stdout), 'the applied edit in logs');
    const attached = fx.start(['up']);
    await attached.waitFor(/attached to portbroker pid/);
    fx.write('portbroker.config.json', '{ "name": ');
    await attached.waitFor(/portbroker +│ error: config change not applied, the services keep the previous config: portbroker\.config\.json/);
    // Put back: the attached up shows that too, and logs can read the config again.
    saveByRename(fx, 'portbroker.config.json', config({ name: 'lr-detached', services: services({ web: { command: 'node serve.mjs', dependsOn: ['api'], env: { X: '2' } } }) }));
    await attached.waitFor(/portbroker +│ portbroker\.config\.json changed; no service's spec changed/);
    const all = await fx.run(['logs', '--json']);
    const streams = new Set((JSON.parse(all.stdout) as Array<{ service: string }>).map((l) => l.service));
    expect([...streams].sort()).toEqual(['api', 'docs', 'portbroker', 'web']);
    expect((await fx.run(['down'])).code).toBe(0);
    await attached.exited;
    expect(fixtureProcesses(fx)).toEqual([]);
  });
});
