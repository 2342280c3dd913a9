import { spawn, spawnSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { ActivityReporter } from '../../src/proxy/activity.js';
import { Forwarder, UpstreamAgents } from '../../src/proxy/forward.js';
import { createProxyHandler } from '../../src/proxy/handler.js';
import { RefusalLog } from '../../src/proxy/refusals.js';
import { RouteSource } from '../../src/proxy/route-source.js';
import { RouteTable } from '../../src/proxy/route-table.js';
import { ConnectionStats } from '../../src/proxy/stats.js';
import { UpstreamDialer } from '../../src/proxy/upstream.js';
import { CLI, fixture, type Fixture } from '../helpers/cli.js';
import { get, livePid, registerService, startUpstream, until } from './helpers.js';

/**
 * The proxy's routes follow the registry through a watch on the state folder, one event-loop turn late. A request
 * that comes in that turn (an open HTTP/2 session, a loaded machine) must not get a 404 for a name already in the
 * file: a miss is checked against the file first. The poll in between asks only the processes the routes depend
 * on, and builds no table while nothing changed.
 */

/** The real CLI writes the registry while this thread is blocked in it, so no watch event can have been handled. */
function aliasNow(fx: Fixture, name: string, port: number): void {
  const alias = spawnSync(process.execPath, [CLI, 'alias', name, String(port)], { env: fx.env, encoding: 'utf8' });
  expect(alias.status, alias.stderr).toBe(0);
}

function newSource(fx: Fixture, pollMs: number, warnings: string[] = []): RouteSource {
  const source = new RouteSource({ home: fx.home, pollMs, onWarning: (message) => warnings.push(message) });
  onTestFinished(() => source.close());
  return source;
}

/** Counts the tables built from now on (a spy: every build still happens). */
function countBuilds() {
  const builds = vi.spyOn(RouteTable, 'fromRegistry');
  onTestFinished(() => builds.mockRestore());
  return builds;
}

describe('RouteSource', () => {
  it('catches up with a registry write its watch has not delivered yet; an unchanged file costs no build', async () => {
    const fx = await fixture();
    const source = newSource(fx, 3_600_000);
    const builds = countBuilds();
    source.catchUp();
    expect(builds).not.toHaveBeenCalled();

    aliasNow(fx, 'api', 5000);
    expect(source.current.lookup('api.localhost').kind).toBe('unknown');
    expect(source.catchUp().lookup('api.localhost')).toMatchObject({ kind: 'route', route: { kind: 'alias', port: 5000 } });
    expect(builds).toHaveBeenCalledTimes(1);
  });

  it('reads again after a read that failed, though the file has not changed since', async () => {
    const fx = await fixture();
    const warnings: string[] = [];
    const source = newSource(fx, 3_600_000, warnings);
    aliasNow(fx, 'api', 5000);
    // The state folder turns unsafe for a moment: that read fails, and the last routes stay.
    chmodSync(fx.home, 0o777);
    expect(source.catchUp().lookup('api.localhost').kind).toBe('unknown');
    expect(warnings).toEqual([expect.stringContaining('is writable by its group and everyone')]);
    chmodSync(fx.home, 0o700);
    expect(source.catchUp().lookup('api.localhost')).toMatchObject({ kind: 'route', route: { kind: 'alias', port: 5000 } });
  });

  it('polls the processes, building no table until one dies without a registry write; its listeners hear once', async () => {
    const fx = await fixture();
    const service = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
    onTestFinished(() => void service.kill('SIGKILL'));
    await registerService(fx.home, { service: 'api', port: 5001, pid: service.pid!, ownerPid: livePid() });
    const checks = vi.spyOn(RouteSource.prototype as unknown as { check: () => Promise<void> }, 'check');
    onTestFinished(() => checks.mockRestore());
    const source = newSource(fx, 20);
    const stateOf = (table: RouteTable) => {
      const found = table.lookup('api.acme.localhost');
      return found.kind === 'route' && found.route.kind === 'service' ? found.route.state : found.kind;
    };
    const heard: string[] = [];
    source.subscribe((table) => heard.push(stateOf(table)));
    expect(stateOf(source.current)).toBe('running');

    const builds = countBuilds();
    const polled = checks.mock.calls.length;
    await until(() => checks.mock.calls.length >= polled + 10, 'ten polls');
    expect(builds).not.toHaveBeenCalled();
    expect(heard).toEqual([]);

    // The process dies and nobody writes the registry: the next poll sees it.
    service.kill('SIGKILL');
    await new Promise((resolve) => service.once('exit', resolve));
    await until(() => stateOf(source.current) === 'stopped', 'the route to say stopped');
    expect(heard).toEqual(['stopped']);
    expect(builds).toHaveBeenCalledTimes(1);
  });
});

describe('the proxy on a name registered a moment ago', () => {
  it('forwards it: the miss is checked against the registry file, not answered from a stale table', async () => {
    const fx = await fixture();
    // Neither watch nor poll: only a request's own check can find the new name.
    const routes = newSource(fx, 3_600_000);
    routes.close();
    const upstream = await startUpstream((_req, res) => res.end('from api'));
    const stats = new ConnectionStats();
    const agents = new UpstreamAgents(new UpstreamDialer(), stats);
    const forwarder = new Forwarder(agents);
    const handler = createProxyHandler({
      routes,
      port: fx.proxyPort,
      lan: false,
      startTimeoutMs: 2_000,
      activity: new ActivityReporter(),
      forwarder,
      refusals: new RefusalLog(() => undefined, stats),
      dashboard: (_req, res) => res.writeHead(404).end(),
    });
    const server = http.createServer(handler.request);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(async () => {
      forwarder.close();
      agents.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });
    const port = (server.address() as net.AddressInfo).port;

    expect((await get(port, 'api.localhost')).status).toBe(404);
    aliasNow(fx, 'api', upstream.port);
    expect(await get(port, 'api.localhost')).toMatchObject({ status: 200, body: 'from api' });
  });
});
