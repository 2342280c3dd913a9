import { spawn, spawnSync } from 'node:child_process';
import { describe, expect, it, onTestFinished } from 'vitest';
import { RouteSource } from '../../src/proxy/route-source.js';
import { CLI, fixture } from '../helpers/cli.js';
import { livePid, registerService, until } from './helpers.js';

/**
 * The proxy's routes follow the registry through a watch on the state folder, one event-loop turn late. A request
 * that comes in that turn (an open HTTP/2 session, a loaded machine) must not get a 404 for a name already in the
 * file: a miss is checked against the file first.
 */
describe('RouteSource', () => {
  it('catches up with a registry write its watch has not delivered yet; nothing changed costs no rebuild', async () => {
    const fx = await fixture();
    const source = new RouteSource({ home: fx.home, pollMs: 3_600_000, onWarning: () => undefined });
    onTestFinished(() => source.close());
    const before = source.current;
    expect(source.catchUp()).toBe(before); // the file has not changed: the same table

    // The real CLI writes the registry while this thread is blocked, so no watch event can have been handled.
    const alias = spawnSync(process.execPath, [CLI, 'alias', 'api', '5000'], { env: fx.env, encoding: 'utf8' });
    expect(alias.status, alias.stderr).toBe(0);
    expect(source.current.lookup('api.localhost').kind).toBe('unknown');
    const found = source.catchUp().lookup('api.localhost');
    expect(found).toMatchObject({ kind: 'route', route: { kind: 'alias', port: 5000 } });
    expect(source.catchUp()).toBe(source.current);
  });

  it('sees a service\'s process die without a registry write, and tells its listeners once', async () => {
    const fx = await fixture();
    const service = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
    onTestFinished(() => void service.kill('SIGKILL'));
    await registerService(fx.home, { service: 'api', port: 5001, pid: service.pid!, ownerPid: livePid() });
    const source = new RouteSource({ home: fx.home, pollMs: 20, onWarning: () => undefined });
    onTestFinished(() => source.close());
    const rebuilt: string[] = [];
    source.subscribe((table) => rebuilt.push(stateOf(table)));
    const stateOf = (table: RouteSource['current']) => {
      const found = table.lookup('api.acme.localhost');
      return found.kind === 'route' && found.route.kind === 'service' ? found.route.state : found.kind;
    };
    expect(stateOf(source.current)).toBe('running');

    // Twenty-odd polls that find every process as it was: the same table, no listener called. (That they read
    // no registry and build no table is a figure: the proxy's event-loop delay in `npm run bench -- dashboard`.)
    const first = source.current;
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(source.current).toBe(first);
    expect(rebuilt).toEqual([]);

    // The process dies and nobody writes the registry: the next poll sees it.
    service.kill('SIGKILL');
    await new Promise((resolve) => service.once('exit', resolve));
    await until(() => stateOf(source.current) === 'stopped', 'the route to say stopped');
    expect(rebuilt).toEqual(['stopped']);
  });
});
