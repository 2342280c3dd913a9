import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findListeners } from '../../src/platform/sockets.js';
import { updateRegistry } from '../../src/ports/registry.js';
import { fixture } from '../helpers/cli.js';
import { get, livePid, registerService, startProxy, startUpstream, until } from './helpers.js';

/** The proxy's life as a user sees it through the CLI: start, reuse, status, stop, aliases, live routes. */

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The pid of a process that has exited. */
function deadPid(): number {
  return spawnSync(process.execPath, ['-e', '']).pid!;
}

describe('proxy start|stop|status', () => {
  it('starts one daemon, reuses it, reports it, and stops it', async () => {
    const fx = await fixture();
    const first = await fx.run(['proxy', 'start']);
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(new RegExp(`proxy started on 127\\.0\\.0\\.1:${fx.proxyPort} and \\[::1\\]:${fx.proxyPort} \\(pid \\d+\\)`));
    const state = JSON.parse(readFileSync(path.join(fx.home, 'proxy.json'), 'utf8')) as { pid: number; port: number };
    expect(state.port).toBe(fx.proxyPort);
    expect(isAlive(state.pid)).toBe(true);
    expect(existsSync(path.join(fx.home, 'proxy.log'))).toBe(true);

    // Loopback only: 127.0.0.1 and ::1, never 0.0.0.0 or ::.
    expect(findListeners(fx.proxyPort).map((l) => l.address).sort()).toEqual(['127.0.0.1', '::1']);

    const again = await fx.run(['proxy', 'start', '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ pid: state.pid, reused: true });

    await registerService(fx.home, { service: 'web', port: 4321 });
    const status = await fx.run(['proxy', 'status', '--json']);
    expect(status.code).toBe(0);
    const parsed = JSON.parse(status.stdout);
    expect(parsed).toMatchObject({ running: true, pid: state.pid, port: fx.proxyPort, addresses: ['127.0.0.1', '::1'] });
    expect(parsed.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(parsed.routes).toEqual([
      { host: 'web.acme.localhost', url: `http://web.acme.localhost:${fx.proxyPort}/`, kind: 'service', project: 'acme', label: '', service: 'web', port: 4321, state: 'running' },
    ]);
    const human = await fx.run(['proxy', 'status']);
    expect(human.stdout).toContain(`http://web.acme.localhost:${fx.proxyPort}/`);

    const stop = await fx.run(['proxy', 'stop']);
    expect(stop.code).toBe(0);
    expect(stop.stdout).toContain(`stopped the proxy (pid ${state.pid})`);
    expect(isAlive(state.pid)).toBe(false);
    expect(existsSync(path.join(fx.home, 'proxy.json'))).toBe(false);
    const after = await fx.run(['proxy', 'status', '--json']);
    expect(after.code).toBe(1);
    expect(JSON.parse(after.stdout)).toMatchObject({ running: false, pid: null });
    expect((await fx.run(['proxy', 'stop'])).stdout).toContain('no proxy was running');
  });

  it('stops cleanly while clients hold connections open', async () => {
    const fx = await fixture();
    await startProxy(fx);
    const upstream = await startUpstream((_req, res) => res.end('ok'));
    await registerService(fx.home, { service: 'web', port: upstream.port });
    const agent = new http.Agent({ keepAlive: true });
    try {
      await get(fx.proxyPort, 'web.acme.localhost', { agent }); // spliced, kept open
      await get(fx.proxyPort, 'nope.localhost', { agent: new http.Agent({ keepAlive: true }) }); // general path, kept open
      expect((await fx.run(['proxy', 'stop'])).code).toBe(0);
      // It shut down by itself (the log's last line), not by the SIGKILL that follows the grace period.
      expect(readFileSync(path.join(fx.home, 'proxy.log'), 'utf8').trim().split('\n').at(-1)).toMatch(/ stopped$/);
    } finally {
      agent.destroy();
    }
  });

  it('names the process that holds the port, and exits 1', async () => {
    const fx = await fixture();
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(fx.proxyPort, '127.0.0.1', resolve));
    try {
      const result = await fx.run(['proxy', 'start']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`the proxy port ${fx.proxyPort} is held by pid ${process.pid}`);
      expect(result.stderr).toContain('--proxy-port');
      expect(existsSync(path.join(fx.home, 'proxy.json'))).toBe(false);
    } finally {
      holder.close();
    }
  });

  it('runs in the foreground until SIGTERM', async () => {
    const fx = await fixture();
    const upstream = await startUpstream((_req, res) => res.end('foreground'));
    await registerService(fx.home, { service: 'web', port: upstream.port });
    const proxy = fx.start(['proxy', 'start', '--foreground']);
    await proxy.waitFor(/proxy listening on 127\.0\.0\.1/);
    expect((await get(fx.proxyPort, 'web.acme.localhost')).body).toBe('foreground');
    const done = await proxy.stop();
    expect(done.code).toBe(0);
    expect(existsSync(path.join(fx.home, 'proxy.json'))).toBe(false);
  });

  it('refuses an unknown action (exit 2), and a proxy of the other scheme while one runs', async () => {
    const fx = await fixture();
    const unknown = await fx.run(['proxy', 'restart']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown proxy action "restart"; use start, stop or status');
    const plain = await fx.run(['proxy', 'start', '--json']);
    expect(JSON.parse(plain.stdout)).toMatchObject({ https: false, port: fx.proxyPort });
    const https = await fx.run(['proxy', 'start', '--https']);
    expect(https.code).toBe(1);
    expect(https.stderr).toMatch(/serves plain HTTP .*; this command wants HTTPS/);
    expect(https.stderr).toMatch(/stop it first \((npx )?portbroker proxy stop\)/);
  });
});

describe('live routes', () => {
  it('follows the registry without a restart', async () => {
    const fx = await fixture();
    await startProxy(fx);
    const one = await startUpstream((_req, res) => res.end('one'));
    const two = await startUpstream((_req, res) => res.end('two'), '::1');
    expect((await get(fx.proxyPort, 'web.acme.localhost')).status).toBe(404);

    await registerService(fx.home, { service: 'web', port: one.port });
    await until(async () => (await get(fx.proxyPort, 'web.acme.localhost')).body === 'one', 'the new route');
    await registerService(fx.home, { service: 'web', port: two.port });
    await until(async () => (await get(fx.proxyPort, 'web.acme.localhost')).body === 'two', 'the changed port');
    await updateRegistry(fx.home, (data) => {
      for (const checkout of Object.values(data.checkouts)) delete checkout.services.web;
    });
    await until(async () => (await get(fx.proxyPort, 'web.acme.localhost')).status === 404, 'the route to go');
  });

  it('keeps routing to an orphan (its supervisor died, its process serves) and drops a service whose process died', async () => {
    const fx = await fixture();
    await startProxy(fx);
    const upstream = await startUpstream((_req, res) => res.end('still listening'));
    await registerService(fx.home, { project: 'orphaned', service: 'web', port: upstream.port, ownerPid: deadPid() });
    await registerService(fx.home, { project: 'abandoned', service: 'web', port: upstream.port, ownerPid: livePid(), owner: deadPid() });
    await registerService(fx.home, { project: 'crashed', service: 'web', port: upstream.port, pid: deadPid() });
    // A service whose own supervisor lives is served even when the checkout's supervisor died.
    await registerService(fx.home, { project: 'adopted', service: 'web', port: upstream.port, ownerPid: deadPid(), owner: livePid() });
    expect((await get(fx.proxyPort, 'web.adopted.localhost')).body).toBe('still listening');
    // Orphans still serve until the next `up` of their checkout ends them: every reader calls them orphaned.
    for (const host of ['web.orphaned.localhost', 'web.abandoned.localhost']) {
      expect((await get(fx.proxyPort, host)).body).toBe('still listening');
    }
    const status = JSON.parse((await fx.run(['proxy', 'status', '--json'])).stdout) as { routes: Array<{ host: string; state: string }> };
    expect(status.routes.filter((r) => r.state === 'orphaned').map((r) => r.host).sort()).toEqual(['web.abandoned.localhost', 'web.orphaned.localhost']);
    const before = upstream.connections.length;
    const reply = await get(fx.proxyPort, 'web.crashed.localhost', { headers: { accept: 'application/json' } });
    expect(reply.status).toBe(502);
    expect(JSON.parse(reply.body)).toMatchObject({ service: 'web', state: 'stopped' });
    expect(upstream.connections).toHaveLength(before);
  });
});

describe('alias', () => {
  it('routes a name to a port portbroker does not manage, lists it, and removes it', async () => {
    const fx = await fixture();
    await startProxy(fx);
    const docker = await startUpstream((_req, res) => res.end('from the container'));
    const added = await fx.run(['alias', 'docker-api', String(docker.port)]);
    expect(added.code).toBe(0);
    expect(added.stdout).toContain(`http://docker-api.localhost:${fx.proxyPort} → port ${docker.port}`);
    await until(async () => (await get(fx.proxyPort, 'docker-api.localhost')).body === 'from the container', 'the alias route');

    const ls = await fx.run(['ls', '--all', '--json']);
    expect(JSON.parse(ls.stdout)).toContainEqual(expect.objectContaining({ kind: 'alias', service: 'docker-api', port: docker.port, state: 'running' }));

    const removed = await fx.run(['alias', 'docker-api', '--remove', '--json']);
    expect(JSON.parse(removed.stdout)).toMatchObject({ host: 'docker-api.localhost', port: docker.port, removed: true });
    await until(async () => (await get(fx.proxyPort, 'docker-api.localhost')).status === 404, 'the alias to go');
    const again = await fx.run(['alias', 'docker-api', '--remove']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('there is no alias docker-api.localhost');
  });

  it('warns about a port nothing listens on, and refuses bad input (exit 2)', async () => {
    const fx = await fixture();
    const quiet = await fx.run(['alias', 'later', '1']);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toContain('nothing listens on port 1 yet');
    expect((await fx.run(['alias', 'docker-api'])).code).toBe(2);
    expect((await fx.run(['alias', 'docker-api', 'http'])).code).toBe(2);
    expect((await fx.run(['alias', 'bad_name!', '8081'])).code).toBe(2);
    expect((await fx.run(['alias', 'portbroker', '8081'])).code).toBe(2);
    const loop = await fx.run(['alias', 'self', String(fx.proxyPort)]);
    expect(loop.code).toBe(2);
    expect(loop.stderr).toContain("the proxy's own port");
  });
});
