import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, runCli } from '../helpers/cli.js';

describe('concurrent reservations', () => {
  it('8 processes reserving 25 services each, at once, never get the same port', async () => {
    const shared = await fixture({});
    const services = Object.fromEntries(Array.from({ length: 25 }, (_, i) => [`svc-${i}`, { command: 'true' }]));
    const projects = await Promise.all(
      Array.from({ length: 8 }, (_, i) => fixture({ 'portbroker.config.json': JSON.stringify({ name: `project-${i}`, services }) })),
    );
    const results = await Promise.all(projects.map((p) => runCli(['ls', '--json'], { cwd: p.root, env: shared.env })));
    for (const r of results) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
    }
    const ports = results.flatMap((r) => (JSON.parse(r.stdout) as Array<{ port: number }>).map((row) => row.port));
    expect(ports).toHaveLength(200);
    expect(new Set(ports).size).toBe(200);

    // The registry parses and holds all 200.
    const registry = JSON.parse(readFileSync(path.join(shared.home, 'registry.json'), 'utf8')) as {
      checkouts: Record<string, { services: Record<string, { port: number }> }>;
    };
    const recorded = Object.values(registry.checkouts).flatMap((c) => Object.values(c.services).map((s) => s.port));
    expect(recorded.sort()).toEqual([...ports].sort());
  });
});
