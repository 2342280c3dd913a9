import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/cli.js';

describe('a very large registry (issue 7, item 8)', () => {
  it('ls --all, ls --all --json and port work with 200k checkouts (nothing recurses or spreads over its size)', async () => {
    const fx = await fixture({ 'portbroker.config.json': JSON.stringify({ name: 'acme', services: { web: {} } }) });
    const checkouts: Record<string, unknown> = {};
    for (let i = 0; i < 200_000; i++) {
      const root = `/tmp/pb-large/${i}`;
      checkouts[root] = { project: `p${i}`, label: '', root, services: { web: { port: 20_000 + (i % 40_000), proxy: true, hostnames: [], state: 'reserved', reservedAt: '' } } };
    }
    writeFileSync(path.join(fx.home, 'registry.json'), JSON.stringify({ version: 1, checkouts, aliases: {} }));

    const table = await fx.run(['ls', '--all'], { timeoutMs: 120_000 });
    expect(table.stderr).toBe('');
    expect(table.code).toBe(0);
    expect(table.stdout.trimEnd().split('\n')).toHaveLength(200_001);
    const json = await fx.run(['ls', '--all', '--json'], { timeoutMs: 120_000 });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toHaveLength(200_000);
    const port = await fx.run(['port', 'web'], { timeoutMs: 120_000 });
    expect(port.stderr).toBe('');
    expect(Number(port.stdout)).toBeGreaterThanOrEqual(49152);
  }, 300_000);
});
