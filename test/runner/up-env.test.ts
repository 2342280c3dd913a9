import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/cli.js';
import { config, get, SERVE, viaProxy } from './helpers.js';

/** What a service's process gets: the environment of SPEC.md (the same `portbroker env` shows), then the runner's own additions. */
describe('portbroker up: environment', () => {
  it('gives each service every SPEC variable, resolves ${…} in env, and its URL works through the proxy', async () => {
    const fx = await fixture({
      'package.json': '{"name": "@acme/rt-env"}',
      'serve.mjs': SERVE,
      'portbroker.config.json': config({
        services: {
          api: { command: 'node ../serve.mjs', cwd: 'api', portEnv: ['API_LISTEN_PORT'] },
          'web-app': {
            command: 'node serve.mjs',
            dependsOn: ['api'],
            env: { TARGET_URL: '${api.url}', OWN: '${url}|${port}', LITERAL: 'x${api.port}y', FLAG: true },
          },
          db: { proxy: false },
          pg: { proxy: false, url: 'postgres://127.0.0.1:${port}/app' },
        },
      }),
      'api/.keep': '',
    });
    const up = fx.start(['up'], { env: { NODE_OPTIONS: '--max-old-space-size=200' } });
    await up.waitFor(/SERVICE\s+PORT/);

    const expected = JSON.parse((await fx.run(['env', 'web-app', '--json'])).stdout) as Record<string, string>;
    const ports = Object.fromEntries(
      await Promise.all(['api', 'web-app', 'db', 'pg'].map(async (s) => [s, Number((await fx.run(['port', s])).stdout.trim())] as const)),
    );
    const env = JSON.parse((await get(ports['web-app']!, '/env')).body) as Record<string, string>;

    // Exactly what `portbroker env` prints, every one of them.
    for (const [key, value] of Object.entries(expected)) expect(env[key], key).toBe(value);
    const proxy = fx.proxyPort;
    expect(env).toMatchObject({
      PORT: String(ports['web-app']),
      HOST: '127.0.0.1',
      PORTBROKER_PROJECT: 'rt-env',
      PORTBROKER_SERVICE: 'web-app',
      PORTBROKER_URL: `http://web-app.rt-env.localhost:${proxy}`,
      API_PORT: String(ports.api),
      API_HOST: '127.0.0.1',
      API_ADDR: `127.0.0.1:${ports.api}`,
      API_URL: `http://api.rt-env.localhost:${proxy}`,
      WEB_APP_PORT: String(ports['web-app']),
      WEB_APP_URL: `http://web-app.rt-env.localhost:${proxy}`,
      DB_PORT: String(ports.db),
      DB_HOST: '127.0.0.1',
      DB_ADDR: `127.0.0.1:${ports.db}`,
      PG_URL: `postgres://127.0.0.1:${ports.pg}/app`,
      TARGET_URL: `http://api.rt-env.localhost:${proxy}`,
      OWN: `http://web-app.rt-env.localhost:${proxy}|${ports['web-app']}`,
      LITERAL: `x${ports.api}y`,
      FLAG: 'true',
    });
    // A proxy: false service has no URL of its own unless its config gives one.
    expect(env.DB_URL).toBeUndefined();
    // portEnv names receive the port too; the service runs in its cwd.
    const apiEnv = JSON.parse((await get(ports.api!, '/env')).body) as Record<string, string>;
    expect(apiEnv.API_LISTEN_PORT).toBe(String(ports.api));
    expect(apiEnv.PWD ?? '').toMatch(/api$/);

    // The runner's additions: the *.localhost preload after the NODE_OPTIONS already set, and the supervisor's mark.
    expect(env.NODE_OPTIONS).toMatch(/^--max-old-space-size=200 --require=\/.*\/platform\/localhost-dns\.cjs$/);
    expect(env.PORTBROKER_SUPERVISOR).toBe(String(up.child.pid));
    expect(expected.NODE_OPTIONS).toBeUndefined();

    // The URL works through the proxy, and a Node service reaches another through its *_URL variable.
    const page = await viaProxy(fx, 'web-app.rt-env.localhost', '/health');
    expect(page).toEqual({ status: 200, body: 'ok' });
    expect(JSON.parse((await get(ports['web-app']!, '/fetch')).body)).toEqual({ ok: true, service: 'api' });

    const stopped = await up.stop();
    expect(stopped.code).toBe(0);
  });
});
