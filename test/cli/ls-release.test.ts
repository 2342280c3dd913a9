import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/cli.js';

interface Row {
  project: string;
  service: string;
  port: number;
  url: string;
  state: string;
  pid: number | null;
  root: string;
}

const cfg = (name: string, services: Record<string, object>) => ({ 'portbroker.config.json': JSON.stringify({ name, services }) });

describe('ls', () => {
  it('lists this project as a table, JSON and a markdown table', async () => {
    const fx = await fixture(cfg('acme', { api: {}, web: { dependsOn: ['api'] } }));
    const rows = JSON.parse((await fx.run(['ls', '--json'])).stdout) as Row[];
    expect(rows.map((r) => r.service)).toEqual(['api', 'web']);
    for (const r of rows) {
      expect(Object.keys(r)).toEqual(expect.arrayContaining(['project', 'service', 'port', 'url', 'state', 'pid', 'root']));
      expect(r).toMatchObject({ project: 'acme', state: 'reserved', pid: null, root: fx.root });
    }
    const table = (await fx.run(['ls'])).stdout;
    expect(table.split('\n')[0]).toMatch(/^SERVICE\s+PORT\s+URL\s+STATE\s+PID\s+UPTIME\s+RESTARTS\s+SUPERVISOR$/);
    expect(table).toContain(`http://web.acme.localhost:${fx.proxyPort}`);
    expect(table).not.toMatch(/\u001b\[/);
    const md = (await fx.run(['ls', '--format', 'markdown'])).stdout;
    expect(md).toBe(
      `| Service | Port | URL |\n| --- | --- | --- |\n| api | ${rows[0]!.port} | http://api.acme.localhost:${fx.proxyPort} |\n| web | ${rows[1]!.port} | http://web.acme.localhost:${fx.proxyPort} |\n`,
    );
  });

  it('--all lists every project on the machine', async () => {
    const a = await fixture(cfg('alpha', { web: {} }));
    const b = await fixture(cfg('beta', { web: {}, api: {} }));
    await a.run(['ls']);
    await b.run(['ls'], { env: { PORTBROKER_HOME: a.home } });
    const rows = JSON.parse((await a.run(['ls', '--all', '--json'])).stdout) as Row[];
    expect(rows.map((r) => `${r.project}/${r.service}`)).toEqual(['alpha/web', 'beta/api', 'beta/web']);
    const table = (await a.run(['ls', '--all'])).stdout;
    expect(table.split('\n')[0]).toMatch(/^PROJECT\s+SERVICE/);
  });
});

describe('release', () => {
  it('drops a named reservation; the port comes back the same when reserved again', async () => {
    const fx = await fixture(cfg('acme', { web: {}, api: {} }));
    const port = (await fx.run(['port', 'web'])).stdout;
    const out = await fx.run(['release', 'web']);
    expect(out.stdout).toContain(`released acme/web (port ${port.trim()})`);
    const rows = JSON.parse((await fx.run(['ls', '--all', '--json'])).stdout) as Row[];
    expect(rows.map((r) => r.service)).toEqual(['api']);
    expect((await fx.run(['port', 'web'])).stdout).toBe(port);
  });

  it('without names drops the whole checkout; --all drops every project', async () => {
    const a = await fixture(cfg('alpha', { web: {}, api: {} }));
    const b = await fixture(cfg('beta', { web: {} }));
    await a.run(['ls']);
    await b.run(['ls'], { env: { PORTBROKER_HOME: a.home } });
    const released = JSON.parse((await a.run(['release', '--json'])).stdout) as { released: Row[] };
    expect(released.released.map((r) => r.service).sort()).toEqual(['api', 'web']);
    expect((JSON.parse((await a.run(['ls', '--all', '--json'])).stdout) as Row[]).map((r) => r.project)).toEqual(['beta']);
    await a.run(['release', '--all']);
    expect(JSON.parse((await a.run(['ls', '--all', '--json'])).stdout)).toEqual([]);
  });

  it('--stale drops checkouts that are gone and services dropped from the config', async () => {
    const keep = await fixture(cfg('keep', { web: {}, old: {} }));
    const gone = await fixture(cfg('gone', { web: {} }));
    await keep.run(['ls']);
    await gone.run(['ls'], { env: { PORTBROKER_HOME: keep.home } });
    rmSync(gone.root, { recursive: true, force: true });
    keep.write('portbroker.config.json', JSON.stringify({ name: 'keep', services: { web: {} } }));
    const doctor = JSON.parse((await keep.run(['doctor', '--json'])).stdout) as Array<{ id: string; status: string; message: string }>;
    expect(doctor.find((c) => c.id === 'stale-reservations')).toMatchObject({ status: 'warn' });
    const result = JSON.parse((await keep.run(['release', '--stale', '--json'])).stdout) as { released: Row[] };
    expect(result.released.map((r) => `${r.project}/${r.service}`).sort()).toEqual(['gone/web', 'keep/old']);
    expect((JSON.parse((await keep.run(['ls', '--all', '--json'])).stdout) as Row[]).map((r) => r.service)).toEqual(['web']);
  });

  it('refuses to mix --all with names, exit 2', async () => {
    const fx = await fixture(cfg('acme', { web: {} }));
    const result = await fx.run(['release', 'web', '--all']);
    expect(result.code).toBe(2);
  });
});
