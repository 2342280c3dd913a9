#!/usr/bin/env node
// `portbroker up` of 20 tiny node services to all-ready, against a plain shell loop that starts the same 20
// commands on the same ports and polls each port until it accepts connections. Interleaved rounds, medians,
// so the ratio survives a noisy shared machine (target <= 1.3). Then the memory of the `up` process while
// 20 services print 1,000 lines/s in total (target <= 80 MB RSS).
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, median } from './lib.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(repo, 'dist', 'cli', 'main.js');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const SERVICES = 20;
const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 10);
const LINES_PER_SECOND = 1000;

const SERVER = `require('node:http').createServer((q, r) => r.end('ok')).listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
const every = Number(process.env.LOG_EVERY_MS || 0);
if (every) { let n = 0; setInterval(() => console.log('line ' + ++n + ' from ' + process.env.PORT + ' ' + 'x'.repeat(60)), every); }
`;

const home = mkdtempSync(path.join(os.tmpdir(), 'pb-bench-up-home-'));
const proxyPort = await freePort();
const env = { ...process.env, PORTBROKER_HOME: home, PORTBROKER_PROXY_PORT: String(proxyPort), NO_COLOR: '1', PORTBROKER_HOSTS: '0' };
const roots = [];

function project(name, logEveryMs) {
  const root = mkdtempSync(path.join(os.tmpdir(), `pb-bench-${name}-`));
  roots.push(root);
  mkdirSync(path.join(root, '.git'));
  writeFileSync(path.join(root, 'server.cjs'), SERVER);
  const services = {};
  for (let i = 1; i <= SERVICES; i++) services[`svc${i}`] = { command: 'node server.cjs', ...(logEveryMs ? { env: { LOG_EVERY_MS: logEveryMs } } : {}) };
  writeFileSync(path.join(root, 'portbroker.config.json'), JSON.stringify({ name, services }));
  return root;
}

/** Starts `portbroker up`; resolves with the ms until its table (all ready) and the process. */
function startUp(root) {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, [cli, 'up'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let lines = 0;
    child.stderr.setEncoding('utf8').on('data', (d) => (err += d));
    child.stdout.setEncoding('utf8').on('data', (d) => {
      lines += d.split('\n').length - 1;
      if (out !== null) {
        out += d;
        if (/^SERVICE\s+PORT/m.test(out)) {
          out = null;
          resolve({ ms: performance.now() - start, child, lines: () => lines });
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`up exited (${code}) before all were ready:\n${err}`)));
  });
}

async function stopUp(child) {
  child.removeAllListeners('exit');
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  await exited;
}

/**
 * The baseline: a shell loop starting each server in the background, then polling every port (bash's
 * /dev/tcp, no subshell per attempt, so the polling itself costs next to nothing). Each server gets its own
 * session, as portbroker gives each service: with the kernel's autogroup scheduling, a session is what gets a
 * fair share of the CPU, and on a busy machine 20 sessions would otherwise outrun one.
 */
function shellLoop(root, ports) {
  const script = `
pids=""
for p in ${ports.join(' ')}; do PORT=$p setsid node server.cjs & pids="$pids $!"; done
for p in ${ports.join(' ')}; do until true 2>/dev/null 3<>/dev/tcp/127.0.0.1/$p; do sleep 0.01; done; done
echo ready
kill $pids; wait
`;
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn('bash', ['-c', script], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let ms;
    child.stdout.setEncoding('utf8').on('data', (d) => {
      if (d.includes('ready')) ms = performance.now() - start;
    });
    child.once('exit', (code) => (ms === undefined ? reject(new Error(`shell loop failed (${code})`)) : resolve(ms)));
  });
}


function rssMb(pid) {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

try {
  // ---- start-up: up vs shell loop ----
  const root = project('benchup');
  // Warm-up: reserves the ports, starts the shared proxy, fills the disk cache.
  let first = await startUp(root);
  await stopUp(first.child);
  const data = JSON.parse(readFileSync(path.join(home, 'registry.json'), 'utf8'));
  const ports = Object.values(Object.values(data.checkouts)[0].services).map((s) => s.port);
  await shellLoop(root, ports);

  const upTimes = [];
  const loopTimes = [];
  for (let i = 0; i < ROUNDS; i++) {
    loopTimes.push(await shellLoop(root, ports));
    const run = await startUp(root);
    upTimes.push(run.ms);
    await stopUp(run.child);
  }
  const ratio = median(upTimes) / median(loopTimes);
  console.log(`${SERVICES} services to all-ready, median of ${ROUNDS} interleaved rounds (target: ratio <= 1.3)`);
  console.log(`  shell loop + port polling      ${median(loopTimes).toFixed(0).padStart(6)} ms   1.00x`);
  console.log(`  portbroker up (CLI start incl.) ${median(upTimes).toFixed(0).padStart(5)} ms   ${ratio.toFixed(2)}x`);

  // ---- memory under log load ----
  // Each service prints a line every N ms, so that all of them together print LINES_PER_SECOND.
  const noisy = project('benchlog', String((1000 * SERVICES) / LINES_PER_SECOND));
  const run = await startUp(noisy);
  const startLines = run.lines();
  const t0 = performance.now();
  let peak = 0;
  while (performance.now() - t0 < LOAD_SECONDS * 1000) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    peak = Math.max(peak, rssMb(run.child.pid));
  }
  const rate = (run.lines() - startLines) / ((performance.now() - t0) / 1000);
  await stopUp(run.child);
  console.log(`RSS of the up process, ${SERVICES} services logging ~1,000 lines/s for ${LOAD_SECONDS} s (target <= 80 MB)`);
  console.log(`  peak ${peak.toFixed(1)} MB, ${rate.toFixed(0)} lines/s shown`);

  const ok = ratio <= 1.3 && peak <= 80;
  console.log(ok ? 'targets met' : 'TARGET MISSED');
  process.exitCode = ok ? 0 : 1;
} finally {
  spawn(process.execPath, [cli, 'proxy', 'stop'], { env, stdio: 'ignore' }).once('exit', () => {
    for (const root of roots) rmSync(root, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });
}
