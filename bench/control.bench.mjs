#!/usr/bin/env node
// The control plane, measured side by side in one run (interleaved rounds, medians; a shared machine is noisy):
// 1. `restart` of one service of a 20-service project running under `up -d`, from the command to the service
//    ready again, against that service's own start (spawn the same command, poll its port until it accepts);
//    target <= 1.2x. Reported for the CLI (a whole `portbroker restart` process) and for the control call alone.
// 2. `logs -n 1000` of a 1 MB log against `tail -n 1000` of the same file; target <= 1.5x. Reported for the
//    CLI process and for the `logs()` function in-process (no Node start-up).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, median } from './lib.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(repo, 'dist', 'cli', 'main.js');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const SERVER = `require('node:http').createServer((q, r) => r.end('ok')).listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));`;

const home = mkdtempSync(path.join(os.tmpdir(), 'pb-bench-ctl-home-'));
const root = mkdtempSync(path.join(os.tmpdir(), 'pb-bench-ctl-'));
const env = { ...process.env, PORTBROKER_HOME: home, PORTBROKER_PROXY_PORT: String(await freePort()), NO_COLOR: '1', PORTBROKER_HOSTS: '0' };
mkdirSync(path.join(root, '.git'));
writeFileSync(path.join(root, 'server.cjs'), SERVER);
const services = {};
for (let i = 1; i <= 20; i++) services[`svc${i}`] = { command: 'node server.cjs' };
writeFileSync(path.join(root, 'portbroker.config.json'), JSON.stringify({ name: 'benchctl', services }));

const cliRun = (args) => spawnSync(process.execPath, [cli, ...args], { cwd: root, env, encoding: 'utf8' });
const timed = (fn) => async () => {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
};
const accepts = (port) =>
  new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

try {
  const up = cliRun(['up', '-d']);
  if (up.status !== 0) throw new Error(`up -d failed: ${up.stderr}`);
  const { controlService } = await import(path.join(repo, 'dist', 'control', 'client.js'));
  const { readRegistry } = await import(path.join(repo, 'dist', 'ports', 'registry.js'));
  const rec = () => readRegistry(home).checkouts[root].services.svc10;
  const socket = path.join(home, 'run', `${rec().owner}.sock`);

  const ownStart = timed(async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['server.cjs'], { cwd: root, env: { ...env, PORT: String(port) }, stdio: 'ignore' });
    while (!(await accepts(port))) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  });
  const cliRestart = timed(async () => {
    const r = cliRun(['restart', 'svc10']);
    if (r.status !== 0) throw new Error(r.stderr);
  });
  const callRestart = timed(() => controlService(socket, 'svc10', 'restart', 60_000));

  const own = [];
  const viaCli = [];
  const viaCall = [];
  for (let i = 0; i < ROUNDS; i++) {
    own.push(await ownStart());
    viaCli.push(await cliRestart());
    viaCall.push(await callRestart());
  }
  const o = median(own);
  console.log(`restart of 1 of 20 services (median of ${ROUNDS}):`);
  console.log(`  its own start (spawn, port accepts)   ${o.toFixed(1)} ms`);
  console.log(`  restart over the control call          ${median(viaCall).toFixed(1)} ms   ratio ${(median(viaCall) / o).toFixed(2)} (target <= 1.2)`);
  console.log(`  \`portbroker restart\` (whole CLI run)   ${median(viaCli).toFixed(1)} ms   ratio ${(median(viaCli) / o).toFixed(2)}`);
  cliRun(['down']);

  // A 1 MB log in the runner's format.
  const { serviceLogFile } = await import(path.join(repo, 'dist', 'platform', 'paths.js'));
  const file = serviceLogFile(home, 'benchctl', '', 'svc1');
  mkdirSync(path.dirname(file), { recursive: true });
  const lines = [];
  let size = 0;
  for (let i = 0; size < 1024 * 1024; i++) {
    const line = `${new Date(Date.now() - 1e6 + i).toISOString()} GET /api/items/${i} 200 ${'x'.repeat(40 + (i % 30))}`;
    lines.push(line);
    size += line.length + 1;
  }
  writeFileSync(file, `${lines.join('\n')}\n`);
  const { logs } = await import(path.join(repo, 'dist', 'index.js'));
  const tail = timed(() => {
    const r = spawnSync('tail', ['-n', '1000', file], { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error('tail failed');
  });
  const logsCli = timed(() => {
    const r = spawnSync(process.execPath, [cli, 'logs', 'svc1', '-n', '1000'], { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error('logs failed');
  });
  const logsCall = timed(() => logs(['svc1'], { cwd: root, env, lines: 1000 }));
  const t = [];
  const c = [];
  const f = [];
  for (let i = 0; i < ROUNDS; i++) {
    t.push(await tail());
    c.push(await logsCli());
    f.push(await logsCall());
  }
  const tm = median(t);
  console.log(`\nlogs -n 1000 of a 1 MB log (median of ${ROUNDS}):`);
  console.log(`  tail -n 1000                      ${tm.toFixed(1)} ms`);
  console.log(`  logs() in-process                 ${median(f).toFixed(1)} ms   ratio ${(median(f) / tm).toFixed(2)} (target <= 1.5)`);
  console.log(`  \`portbroker logs\` (whole CLI run) ${median(c).toFixed(1)} ms   ratio ${(median(c) / tm).toFixed(2)} (Node's start-up included)`);
} finally {
  cliRun(['down']);
  cliRun(['proxy', 'stop']);
  rmSync(root, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
}
