import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/cli.js';
import { config, SERVE } from '../runner/helpers.js';

describe('up', () => {
  it('prints the dashboard URL once, after the table', async () => {
    const fx = await fixture({
      'package.json': JSON.stringify({ name: 'upurl-acme' }),
      'serve.mjs': SERVE,
      'portbroker.config.json': config({ services: { api: { command: 'node serve.mjs' } } }),
    });
    const up = fx.start(['up']);
    const url = `http://portbroker.localhost:${fx.proxyPort}/`;
    await up.waitFor(new RegExp(`dashboard ${url.replace(/\./g, '\\.')}`));
    await up.waitFor(/api listening on \d+/);
    expect(up.stdout).toMatch(/SERVICE\s+PORT\s+URL\s+STATE/);
    expect((up.stdout + up.stderr).split(url).length - 1).toBe(1);
  });
});
