import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/cli.js';

const CONFIG = {
  'portbroker.config.ts': `export default {
  name: 'acme',
  services: {
    api: { command: 'node api.js', portEnv: ['API_LISTEN_PORT'] },
    'admin-ui': { command: 'x', env: { BACKEND: '\${api.url}/v1', SELF: '\${url}', P: '\${port}', QUOTED: "it's \\"quoted\\"" } },
  },
};\n`,
};

describe('env', () => {
  it('gives a service every SPEC variable, references resolved, in every format', async () => {
    const fx = await fixture(CONFIG);
    const json = JSON.parse((await fx.run(['env', 'admin-ui', '--format', 'json'])).stdout) as Record<string, string>;
    const ports = Object.fromEntries(
      (JSON.parse((await fx.run(['ls', '--json'])).stdout) as Array<{ service: string; port: number }>).map((r) => [r.service, String(r.port)]),
    );
    const base = `acme.localhost:${fx.proxyPort}`;
    expect(json).toEqual({
      PORT: ports['admin-ui'],
      HOST: '127.0.0.1',
      PORTBROKER_PROJECT: 'acme',
      PORTBROKER_SERVICE: 'admin-ui',
      PORTBROKER_URL: `http://admin-ui.${base}`,
      API_PORT: ports.api,
      API_HOST: '127.0.0.1',
      API_ADDR: `127.0.0.1:${ports.api}`,
      API_URL: `http://api.${base}`,
      ADMIN_UI_PORT: ports['admin-ui'],
      ADMIN_UI_HOST: '127.0.0.1',
      ADMIN_UI_ADDR: `127.0.0.1:${ports['admin-ui']}`,
      ADMIN_UI_URL: `http://admin-ui.${base}`,
      BACKEND: `http://api.${base}/v1`,
      SELF: `http://admin-ui.${base}`,
      P: ports['admin-ui'],
      QUOTED: `it's "quoted"`,
    });
    const api = JSON.parse((await fx.run(['env', 'api', '--json'])).stdout) as Record<string, string>;
    expect(api.API_LISTEN_PORT).toBe(api.PORT);

    const dotenv = (await fx.run(['env', 'admin-ui'])).stdout;
    expect(dotenv).toContain(`PORT=${ports['admin-ui']}\n`);
    expect(dotenv).toContain(`QUOTED="it's \\"quoted\\""`);
    const shell = (await fx.run(['env', 'admin-ui', '--format', 'shell'])).stdout;
    expect(shell).toContain(`export BACKEND=http://api.${base}/v1\n`);
    expect(shell).toContain(`export QUOTED='it'\\''s "quoted"'`);
  });

  it('without a service gives the S_PORT/S_HOST/S_ADDR/S_URL set', async () => {
    const fx = await fixture(CONFIG);
    const vars = JSON.parse((await fx.run(['env', '--json'])).stdout) as Record<string, string>;
    expect(Object.keys(vars).sort()).toEqual(['ADMIN_UI_ADDR', 'ADMIN_UI_HOST', 'ADMIN_UI_PORT', 'ADMIN_UI_URL', 'API_ADDR', 'API_HOST', 'API_PORT', 'API_URL']);
  });

  it('refuses an unknown format', async () => {
    const fx = await fixture(CONFIG);
    const result = await fx.run(['env', 'api', '--format', 'yaml']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--format: "yaml" is not one of dotenv, shell, json/);
  });
});
