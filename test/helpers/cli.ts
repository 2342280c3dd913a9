import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';

/**
 * Shared test plumbing: fixture monorepos in temp folders, each with its own PORTBROKER_HOME and proxy port,
 * and the real CLI binary spawned against them. Everything a test starts is cleaned up when the test ends,
 * passed or failed.
 */

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = path.join(REPO, 'dist', 'cli', 'main.js');

export interface Fixture {
  /** The fixture's root folder (a git repository unless `git: false`). */
  root: string;
  /** Its own state folder. */
  home: string;
  /** Its own proxy port. */
  proxyPort: number;
  /** Environment for the CLI: PORTBROKER_HOME, PORTBROKER_PROXY_PORT, NO_COLOR. */
  env: NodeJS.ProcessEnv;
  /** Writes (or overwrites) a file under the root. */
  write(file: string, content: string): string;
  run(args: string[], options?: RunOptions): Promise<RunResult>;
  start(args: string[], options?: RunOptions): CliProcess;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  input?: string;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Creates a fixture monorepo from `files` (path → content); removed after the test. */
export async function fixture(files: Record<string, string> = {}, options: { git?: boolean } = {}): Promise<Fixture> {
  const root = mkdtempSync(path.join(os.tmpdir(), 'pb-fixture-'));
  const home = mkdtempSync(path.join(os.tmpdir(), 'pb-home-'));
  const proxyPort = await freePort();
  const started: CliProcess[] = [];
  onTestFinished(async () => {
    await Promise.all(started.map((p) => p.stop()));
    killRecorded(home);
    rmSync(root, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });
  if (options.git !== false) mkdirSync(path.join(root, '.git'));
  const env = { PORTBROKER_HOME: home, PORTBROKER_PROXY_PORT: String(proxyPort), NO_COLOR: '1' };
  const fx: Fixture = {
    root,
    home,
    proxyPort,
    env,
    write(file, content) {
      const full = path.join(root, file);
      mkdirSync(path.dirname(full), { recursive: true });
      writeFileSync(full, content);
      return full;
    },
    run: (args, opts = {}) => runCli(args, { cwd: root, ...opts, env: { ...env, ...opts.env } }),
    start(args, opts = {}) {
      const p = startCli(args, { cwd: root, ...opts, env: { ...env, ...opts.env } });
      started.push(p);
      return p;
    },
  };
  for (const [file, content] of Object.entries(files)) fx.write(file, content);
  return fx;
}

/** Runs the CLI to completion. */
export function runCli(args: string[], options: RunOptions = {}): Promise<RunResult> {
  const p = startCli(args, options);
  if (options.input !== undefined) p.child.stdin?.end(options.input);
  return p.exited;
}

export interface CliProcess {
  child: ChildProcess;
  /** Everything printed so far. */
  readonly stdout: string;
  readonly stderr: string;
  exited: Promise<RunResult>;
  /** Resolves with the output once `pattern` appears on stdout or stderr; rejects on exit or timeout. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** SIGTERM, then SIGKILL to the whole process group after a grace period. */
  stop(graceMs?: number): Promise<RunResult>;
}

export function startCli(args: string[], options: RunOptions = {}): CliProcess {
  // Own process group, so cleanup can end the CLI and everything it spawned.
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    env: { ...process.env, FORCE_COLOR: undefined, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    waiters.forEach((w) => w());
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    waiters.forEach((w) => w());
  });
  const exited = new Promise<RunResult>((resolve) => {
    child.on('close', (code, signal) => {
      waiters.forEach((w) => w());
      resolve({ code, signal, stdout, stderr });
    });
  });
  let done = false;
  void exited.then(() => (done = true));
  const timer = options.timeoutMs
    ? setTimeout(() => {
        if (!done) killGroup(child, 'SIGKILL');
      }, options.timeoutMs)
    : undefined;
  void exited.then(() => clearTimeout(timer));

  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
    waitFor(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const text = stdout + stderr;
          if (pattern.test(text)) {
            cleanup();
            resolve(text);
          } else if (done) {
            cleanup();
            reject(new Error(`process exited before ${pattern} appeared:\n${text}`));
          }
        };
        const t = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}:\n${stdout}${stderr}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(t);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    async stop(graceMs = 10_000) {
      if (!done) {
        killGroup(child, 'SIGTERM');
        const t = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
        await exited;
        clearTimeout(t);
      }
      // Whatever the CLI left in its group goes too (a failed test must not leak processes).
      killGroup(child, 'SIGKILL');
      return exited;
    },
  };
}

/**
 * Safety net for failed tests: ends every process group the state folder records (services, supervisors) and
 * its proxy daemon, so nothing outlives the test.
 */
export function killRecorded(home: string): void {
  const pids = new Set<number>();
  try {
    const data = JSON.parse(readFileSync(path.join(home, 'registry.json'), 'utf8')) as {
      checkouts: Record<string, { ownerPid?: number; services: Record<string, { pid?: number }> }>;
    };
    for (const c of Object.values(data.checkouts)) {
      if (c.ownerPid) pids.add(c.ownerPid);
      for (const s of Object.values(c.services)) if (s.pid) pids.add(-s.pid);
    }
  } catch {
    // no registry
  }
  try {
    const proxy = JSON.parse(readFileSync(path.join(home, 'proxy.json'), 'utf8')) as { pid?: number };
    if (proxy.pid) pids.add(proxy.pid);
  } catch {
    // no proxy
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** A port free on both 127.0.0.1 and ::1 right now, for a test's proxy. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await listenOnce('127.0.0.1', 0);
    try {
      await listenOnce('::1', port);
      return port;
    } catch {
      // taken on ::1: try another
    }
  }
}

/** `count` consecutive ports free on both loopbacks (a range test must not meet a neighbour's listener). */
export async function freePortBlock(count: number): Promise<number> {
  for (;;) {
    const base = await freePort();
    if (base + count - 1 > 65535) continue;
    let free = true;
    for (let port = base + 1; free && port < base + count; port++) {
      free = await listenOnce('127.0.0.1', port).then(() => listenOnce('::1', port)).then(() => true, () => false);
    }
    if (free) return base;
  }
}

function listenOnce(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      const { port: bound } = server.address() as net.AddressInfo;
      server.close(() => resolve(bound));
    });
  });
}
