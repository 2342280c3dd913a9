import { spawnSync } from 'node:child_process';
import { describe, expect, it, onTestFinished } from 'vitest';
import { RouteSource } from '../../src/proxy/route-source.js';
import { CLI, fixture } from '../helpers/cli.js';

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
});
