#!/usr/bin/env node
// CLI start-up and allocation speed. Start-up is measured against `node -e 0` in the same run, interleaved,
// so the ratio survives a noisy shared machine.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './lib.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(repo, 'dist', 'cli', 'main.js');
const { allocatePorts, serviceKey } = await import(path.join(repo, 'dist', 'ports', 'allocator.js'));
const { ephemeralRange } = await import(path.join(repo, 'dist', 'platform', 'ephemeral.js'));

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const root = mkdtempSync(path.join(os.tmpdir(), 'pb-bench-startup-'));
const home = mkdtempSync(path.join(os.tmpdir(), 'pb-bench-home-'));
mkdirSync(path.join(root, '.git'));
writeFileSync(
  path.join(root, 'portbroker.config.ts'),
  `import { defineConfig } from 'portbroker';
const apps: string[] = ['web', 'admin', 'docs'];
export default defineConfig({
  name: 'bench',
  services: {
    api: { command: 'node api.js', ready: { http: '/health' } },
    ...Object.fromEntries(apps.map((name) => [name, { command: 'vite', dependsOn: ['api'], env: { API: '\${api.url}' } }])),
    db: { proxy: false, port: 54329 },
  },
});
`,
);
const env = { ...process.env, PORTBROKER_HOME: home, PORTBROKER_PROXY_PORT: '17355', NO_COLOR: '1', PORTBROKER_HOSTS: '0' };

function time(args) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { cwd: root, env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  return ms;
}

try {
  time([cli, 'port', 'web']); // reserve, compile and cache the config once
  const node = [];
  const warm = [];
  for (let i = 0; i < ROUNDS; i++) {
    node.push(time(['-e', '0']));
    warm.push(time([cli, 'port', 'web']));
  }
  const coldNode = [];
  const cold = [];
  for (let i = 0; i < 5; i++) {
    rmSync(path.join(home, 'cache'), { recursive: true, force: true });
    coldNode.push(time(['-e', '0']));
    cold.push(time([cli, 'port', 'web']));
  }

  const requests = Array.from({ length: 1000 }, (_, i) => ({ key: serviceKey('bench', '', `svc-${i}`) }));
  const alloc = [];
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    const ports = await allocatePorts(requests, { range: [49152, 65535], ephemeral: ephemeralRange(), exclude: new Set() });
    alloc.push(performance.now() - start);
    if (new Set(ports.values()).size !== 1000) throw new Error('allocation gave duplicate ports');
  }

  const rows = [
    ['node -e 0', median(node), 1],
    ['portbroker port web (.ts config, cached)', median(warm), median(warm) / median(node)],
    ['portbroker port web (first run: esbuild compiles the config)', median(cold), median(cold) / median(coldNode)],
  ];
  console.log(`CLI start-up, median of ${ROUNDS} interleaved runs (target: cached ratio <= 2.5)`);
  for (const [name, ms, ratio] of rows) console.log(`  ${name.padEnd(62)} ${ms.toFixed(1).padStart(7)} ms   ${ratio.toFixed(2)}x`);
  console.log(`Allocating 1,000 services (real probes), median of 5: ${median(alloc).toFixed(1)} ms (target < 200 ms)`);
  const ok = median(warm) / median(node) <= 2.5 && median(alloc) < 200;
  console.log(ok ? 'targets met' : 'TARGET MISSED');
} finally {
  rmSync(root, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
}
