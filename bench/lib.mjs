// Helpers shared by the benchmarks.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

/** A port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The median of the numbers in a list (nulls and NaN skipped); null when there are none. */
export function median(values) {
  const sorted = values.filter((v) => v !== null && !Number.isNaN(v)).sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)] : null;
}

/**
 * A temp folder for one benchmark run and the cleanups of what it starts: `cleanup()` runs them last-first
 * (best effort) and removes the folder; Ctrl-C and SIGTERM run it too.
 */
export function benchRun(prefix) {
  const work = mkdtempSync(path.join(os.tmpdir(), prefix));
  const cleanups = [];
  const cleanup = () => {
    for (const fn of cleanups.reverse()) {
      try {
        fn();
      } catch {
        // best effort
      }
    }
    rmSync(work, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => (cleanup(), process.exit(130)));
  return { work, cleanups, cleanup };
}

/**
 * Records one running service, `web` of project `bench`, on `upstreamPort` in a fresh state folder: the route a
 * proxy under benchmark serves as `web.bench.localhost`; and `others`, more running services of the project (name →
 * `{port, pid}`). `dist` is the build whose registry format to write.
 */
export async function seedBenchRoute(dist, home, upstreamPort, upstreamPid, others = {}) {
  const { updateRegistry } = await import(pathToFileURL(path.join(dist, 'ports', 'registry.js')).href);
  const running = (port, pid) => ({ port, proxy: true, hostnames: [], state: 'running', pid, reservedAt: new Date().toISOString() });
  const services = { web: running(upstreamPort, upstreamPid) };
  for (const [name, { port, pid }] of Object.entries(others)) services[name] = running(port, pid);
  await updateRegistry(home, (data) => {
    data.checkouts['/bench'] = { project: 'bench', label: '', root: '/bench', services };
  });
}

/** Whether a command is on PATH (wrk, nginx, caddy). */
export function commandExists(name) {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** Clock ticks per second of /proc's CPU times (CLK_TCK), read once. */
export function ticksPerSecond() {
  ticksPerSecond.hz ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticksPerSecond.hz;
}

/** wrk's report for `args`, from a process of its own, without blocking this one's event loop (a failed run rejects). */
export function runWrk(args) {
  return new Promise((resolve, reject) => {
    const proc = spawn('wrk', args);
    let out = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.once('error', reject);
    proc.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`wrk ${args.join(' ')} failed (${code}): ${out}`))));
  });
}

/** A duration as wrk prints it (`850.12us`, `1.20ms`, `2.00s`), in ms; NaN for anything else. */
export function wrkMs(text) {
  const match = /^([\d.]+)(us|ms|s)$/.exec(text ?? '');
  return match ? Number(match[1]) * { us: 0.001, ms: 1, s: 1000 }[match[2]] : NaN;
}

/** CPU `ticks` (cpuTicks, threadTicks) taken over `seconds`, as a percentage of one core. */
export function percentOfCore(ticks, seconds) {
  return (ticks / ticksPerSecond() / seconds) * 100;
}

/** The fields of /proc/<pid>/stat after the command name (state first); undefined once the process is gone. */
function procStat(pid, tid) {
  try {
    const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
    return { comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), fields: stat.slice(stat.lastIndexOf(')') + 2).split(' ') };
  } catch {
    return undefined;
  }
}

/** User plus system CPU of processes so far, in clock ticks (with `reaped`, their reaped children's too); gone ones count 0. */
export function cpuTicks(pids, { reaped = false } = {}) {
  let total = 0;
  for (const pid of [pids].flat()) {
    const f = procStat(pid)?.fields;
    if (f) total += ownTicks(f) + (reaped ? Number(f[13]) + Number(f[14]) : 0);
  }
  return total;
}

/** User plus system CPU so far of one thread of `pid` (its main thread: `tid` = `pid`), in clock ticks; 0 once gone. */
export function threadTicks(pid, tid = pid) {
  const f = procStat(pid, tid)?.fields;
  return f ? ownTicks(f) : 0;
}

/** utime + stime of a /proc stat line's fields (after the command name). */
function ownTicks(fields) {
  return Number(fields[11]) + Number(fields[12]);
}

/**
 * CPU ticks so far of `root` and every live process below it whose command name `match` accepts (a browser's
 * renderers, GPU and network processes); with `reaped`, their reaped children's too.
 */
export function treeCpuTicks(root, { match = () => true, reaped = false } = {}) {
  const procs = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = procStat(entry);
    if (stat) procs.set(Number(entry), { ppid: Number(stat.fields[1]), comm: stat.comm });
  }
  const under = (pid) => {
    for (let p = pid; p !== undefined && p > 1; p = procs.get(p)?.ppid) if (p === root) return true;
    return false;
  };
  const members = [...procs].filter(([pid, { comm }]) => under(pid) && pid !== process.pid && match(comm)).map(([pid]) => pid);
  return cpuTicks(members, { reaped });
}

/**
 * Caddy with `caddyfile`, written in `dir` (also its HOME and data folder: nothing of the machine's is read or
 * written), until it listens on 127.0.0.1:`port`; its log is `dir`/caddy.log. Killed by `cleanups`.
 */
export async function runCaddy(dir, caddyfile, port, cleanups) {
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'Caddyfile');
  const log = path.join(dir, 'caddy.log');
  writeFileSync(file, caddyfile);
  const child = spawn('caddy', ['run', '--config', file, '--adapter', 'caddyfile'], {
    stdio: ['ignore', 'ignore', openSync(log, 'w')],
    env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
  });
  cleanups.push(() => child.kill('SIGKILL'));
  let exited = false;
  child.once('exit', () => (exited = true));
  for (const deadline = Date.now() + 10_000; !(await listening(port)); await sleep(50)) {
    if (exited || Date.now() > deadline) {
      throw new Error(`caddy ${exited ? 'exited before it listened' : 'did not listen within 10 s'} on 127.0.0.1:${port}; see ${log}:\n${readFileSync(log, 'utf8').slice(-2000)}`);
    }
  }
  return child;
}

function listening(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}
