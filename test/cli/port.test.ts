import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, freePortBlock } from '../helpers/cli.js';

const config = (name: string, services: Record<string, object> = { web: {}, api: {} }) => ({
  'portbroker.config.json': JSON.stringify({ name, services }),
  'apps/web/index.js': '',
});

describe('stable ports', () => {
  it('gives the same port across 20 runs and from a sub-folder', async () => {
    const fx = await fixture(config('acme'));
    const first = await fx.run(['port', 'web']);
    expect(first.code).toBe(0);
    const port = Number(first.stdout);
    expect(port).toBeGreaterThanOrEqual(49152);
    expect(port).toBeLessThanOrEqual(65535);
    for (let i = 0; i < 20; i++) {
      const again = await fx.run(['port', 'web'], { cwd: i % 2 ? path.join(fx.root, 'apps', 'web') : fx.root });
      expect(again.stdout).toBe(first.stdout);
    }
  });

  it('gives a teammate with the same config the same port, and another project a different one', async () => {
    const me = await fixture(config('acme'));
    const teammate = await fixture(config('acme'));
    const other = await fixture(config('globex'));
    const mine = (await me.run(['port', 'web'])).stdout;
    expect((await teammate.run(['port', 'web'])).stdout).toBe(mine);
    // Another project on the same machine (same state folder) with a service also called web.
    const theirs = (await other.run(['port', 'web'], { env: { PORTBROKER_HOME: me.home } })).stdout;
    expect(theirs).not.toBe(mine);
  });

  it('keeps a reservation when the same project name is checked out twice, giving the second its own label', async () => {
    const first = await fixture(config('acme'));
    const second = await fixture(config('acme'));
    const a = await first.run(['url', 'web', '--json']);
    const b = await second.run(['url', 'web', '--json'], { env: { PORTBROKER_HOME: first.home, PORTBROKER_PROXY_PORT: String(first.proxyPort) } });
    const infoA = JSON.parse(a.stdout) as { port: number; url: string; label: string };
    const infoB = JSON.parse(b.stdout) as { port: number; url: string; label: string };
    expect(infoA.url).toBe(`http://web.acme.localhost:${first.proxyPort}`);
    expect(infoB.label).toBe(path.basename(second.root).toLowerCase().replace(/[^a-z0-9-]+/g, '-'));
    expect(infoB.url).toBe(`http://web.${infoB.label}.acme.localhost:${first.proxyPort}`);
    expect(infoB.port).not.toBe(infoA.port);
  });

  it('never hands out the proxy port or a port browsers refuse', async () => {
    const fx = await fixture(config('acme', { a: {}, b: {}, c: {} }));
    // A range of four free ports starting at the proxy port: three services fit only if the proxy port is skipped.
    const lo = await freePortBlock(4);
    const result = await fx.run(['ls', '--json'], { env: { PORTBROKER_PROXY_PORT: String(lo), PORTBROKER_RANGE: `${lo}-${lo + 3}` } });
    expect(result.code, result.stderr).toBe(0);
    const ports = (JSON.parse(result.stdout) as Array<{ port: number }>).map((r) => r.port);
    expect(ports).not.toContain(lo);
    const bad = await fixture(config('bad', { a: {} }));
    const browserSafe = await bad.run(['port', 'a'], { env: { PORTBROKER_RANGE: '6665-6670' } });
    expect(browserSafe.stdout.trim()).toBe('6670');
  });

  it('says so when the range is exhausted', async () => {
    const fx = await fixture(config('acme', { a: {}, b: {} }));
    const result = await fx.run(['port', 'a'], { env: { PORTBROKER_RANGE: '60100-60100' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot reserve ports for acme: no free port left in 60100-60100/);
    expect(result.stderr).toMatch(/release --stale/);
  });

  it('refuses an unknown service, naming the declared ones', async () => {
    const fx = await fixture(config('acme'));
    const result = await fx.run(['port', 'wbe']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown service "wbe"/);
    expect(result.stderr).toMatch(/declared services: web, api/);
  });

  it('gives https:// URLs with HTTPS on, without a port when the proxy port is the scheme default', async () => {
    const fx = await fixture(config('acme'));
    const result = await fx.run(['url', 'web'], { env: { PORTBROKER_HTTPS: '1' } });
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(`https://web.acme.localhost:${fx.proxyPort}`);
    expect(result.stderr).toBe('');
    const on443 = await fx.run(['url', 'web'], { env: { PORTBROKER_PROXY_PORT: '443', PORTBROKER_HTTPS: '1' } });
    expect(on443.stdout.trim()).toBe('https://web.acme.localhost');
    const on80 = await fx.run(['url', 'web'], { env: { PORTBROKER_PROXY_PORT: '80' } });
    expect(on80.stdout.trim()).toBe('http://web.acme.localhost');
    const env = await fx.run(['env', 'web', '--format', 'json'], { env: { PORTBROKER_HTTPS: '1' } });
    expect(JSON.parse(env.stdout)).toMatchObject({
      PORTBROKER_URL: `https://web.acme.localhost:${fx.proxyPort}`,
      API_URL: `https://api.acme.localhost:${fx.proxyPort}`,
      NODE_EXTRA_CA_CERTS: path.join(fx.home, 'certs', 'ca.pem'),
    });
    expect(JSON.parse((await fx.run(['env', 'web', '--format', 'json'])).stdout)).not.toHaveProperty('NODE_EXTRA_CA_CERTS');
  });

  it('url and port --json give the ls row', async () => {
    const fx = await fixture(config('acme', { web: { hostnames: ['app'] }, debug: { proxy: false }, pg: { proxy: false, url: 'postgres://127.0.0.1:${port}/app' } }));
    const port = JSON.parse((await fx.run(['port', 'web', '--json'])).stdout) as Record<string, unknown>;
    expect(port).toMatchObject({ project: 'acme', service: 'web', state: 'reserved', pid: null, root: fx.root, url: `http://web.acme.localhost:${fx.proxyPort}` });
    // proxy: false: no URL (not HTTP, no route) unless a url template gives one.
    const debug = JSON.parse((await fx.run(['port', 'debug', '--json'])).stdout) as { url: string | null; port: number };
    expect(debug.url).toBeNull();
    const noUrl = await fx.run(['url', 'debug']);
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toContain(`debug has no URL: it is proxy: false (not HTTP, no route); its address is 127.0.0.1:${debug.port}`);
    const pg = JSON.parse((await fx.run(['url', 'pg', '--json'])).stdout) as { url: string; port: number };
    expect(pg.url).toBe(`postgres://127.0.0.1:${pg.port}/app`);
    const all = JSON.parse((await fx.run(['ls', '--all', '--json'])).stdout) as Array<{ service: string; url: string | null }>;
    expect(all.find((r) => r.service === 'debug')!.url).toBeNull();
    expect(all.find((r) => r.service === 'pg')!.url).toBe(pg.url);
  });
});
