import { spawn } from 'node:child_process';
import { closeSync, openSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { PortbrokerError } from '../errors.js';
import { acceptsConnections } from '../platform/loopback.js';
import { statePaths } from '../platform/paths.js';
import { ensureStateFolder } from '../platform/state-folder.js';
import { isAlive } from '../platform/proc.js';
import { proxyPortHeld } from './port-held.js';
import { readProxyState, runningProxy, type ProxyState } from './state.js';

/**
 * One proxy daemon per state folder.
 *
 * ensureProxy: if this state folder's proxy runs (proxy.json pid alive and listening on `port`), return its
 * state; otherwise start it detached (pid file + log file in the state folder), wait until it listens on
 * 127.0.0.1 and ::1 (or every interface with `lan`), and return its state. A port held by something else is a
 * PortbrokerError (exit 1) naming the holder.
 */
export interface EnsureProxyOptions {
  home: string;
  port: number;
  lan?: boolean;
  /** Serve HTTPS (TLS, HTTP/2) on the port; plain HTTP is redirected there. */
  https?: boolean;
}

const START_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5_000;
/** proxy.log is set aside as proxy.log.1 at a start once it is this big. */
const LOG_ROTATE_BYTES = 1024 * 1024;

export async function ensureProxy(options: EnsureProxyOptions): Promise<ProxyState> {
  const { home, port } = options;
  const running = runningProxy(home);
  if (running && running.port !== port) {
    throw new PortbrokerError(`the proxy of ${home} already runs on port ${running.port} (pid ${running.pid}), not on ${port}`, {
      details: [`use --proxy-port ${running.port}, or stop it first: portbroker proxy stop`],
    });
  }
  if (running && options.lan && !running.addresses.includes('::')) {
    throw new PortbrokerError(`the proxy of ${home} runs on loopback only (pid ${running.pid}); it cannot take --lan while it runs`, {
      details: ['stop it first: portbroker proxy stop, then start it again with --lan'],
    });
  }
  if (running && running.https !== (options.https === true)) {
    const [now, wanted] = running.https ? ['HTTPS', 'plain HTTP'] : ['plain HTTP', 'HTTPS'];
    throw new PortbrokerError(`the proxy of ${home} serves ${now} (pid ${running.pid}, port ${running.port}); this command wants ${wanted}`, {
      details: [`stop it first (portbroker proxy stop), or ${running.https ? 'add --https (or PORTBROKER_HTTPS=1)' : 'drop --https, PORTBROKER_HTTPS and proxy.https'}`],
    });
  }
  // A connection is the cheap test (runningProxy already told our daemon from a recycled pid); who holds the
  // port is looked up in /proc only when something answers that is not our proxy — that scan costs tens of
  // milliseconds on a busy machine, on the path of every `up`.
  if (await acceptsConnections(port)) {
    if (running) return running;
    throw proxyPortHeld(port);
  }
  return startDaemon(options);
}

/** Stops this state folder's proxy; resolves with whether one was running. */
export async function stopProxy(home: string): Promise<boolean> {
  const state = runningProxy(home);
  if (!state) {
    rmSync(statePaths(home).proxyState, { force: true }); // stale: its process is gone
    return false;
  }
  signal(state.pid, 'SIGTERM');
  if (!(await exited(state.pid, STOP_GRACE_MS))) {
    signal(state.pid, 'SIGKILL');
    await exited(state.pid, 1_000);
  }
  if (readProxyState(home)?.pid === state.pid) rmSync(statePaths(home).proxyState, { force: true });
  return true;
}

async function startDaemon({ home, port, lan, https }: EnsureProxyOptions): Promise<ProxyState> {
  const paths = statePaths(home);
  ensureStateFolder(home);
  // The CA, the leaf key and the loopback certificate are made here, before the daemon's start clock runs: making
  // them loads the X.509 library, seconds on a busy machine. The daemon then finds them on disk.
  if (https) await (await import('../tls/certificates.js')).CertificateStore.open(home);
  rotateLog(paths.proxyLog);
  const logStart = sizeOf(paths.proxyLog);
  const log = openSync(paths.proxyLog, 'a', 0o600);
  const entry = fileURLToPath(new URL('./daemon-main.js', import.meta.url));
  const child = spawn(process.execPath, [entry, '--home', home, '--port', String(port), ...(lan ? ['--lan'] : []), ...(https ? ['--https'] : [])], {
    detached: true,
    stdio: ['ignore', log, log],
    cwd: '/', // never hold a project folder (or a test's temp folder) open
    env: daemonEnvironment(process.env),
  });
  closeSync(log);
  child.unref();
  let exitCode: number | null | undefined;
  child.once('exit', (code, sig) => (exitCode = code ?? (sig ? 128 : 1)));
  child.once('error', () => (exitCode = 1));

  const deadline = Date.now() + START_TIMEOUT_MS;
  let exitSeenAt: number | undefined;
  while (Date.now() < deadline) {
    const state = runningProxy(home);
    // Ours, or — when two commands started one at once — the one that won the port.
    if (state?.port === port && (state.pid === child.pid || exitCode !== undefined)) return state;
    if (exitCode !== undefined) {
      exitSeenAt ??= Date.now();
      // The winner of a race may take a moment to publish proxy.json.
      if (Date.now() - exitSeenAt > 1_000) {
        const lines = readFrom(paths.proxyLog, logStart).split('\n').map((l) => l.replace(/^\S+Z /, '')).filter(Boolean);
        const reason = lines.find((l) => l.startsWith('portbroker: '))?.slice('portbroker: '.length) ?? lines.at(-1) ?? `it exited with status ${exitCode}`;
        throw new PortbrokerError(`the proxy did not start: ${reason}`, { details: [`its log: ${paths.proxyLog}`] });
      }
    }
    await sleep(20);
  }
  signal(child.pid, 'SIGKILL');
  throw new PortbrokerError(`the proxy did not start listening on port ${port} within ${START_TIMEOUT_MS / 1000} s`, {
    details: [`its log: ${paths.proxyLog}`],
  });
}

/**
 * The daemon serves every project on the machine, so it does not carry the environment of whichever terminal
 * happened to start it (a project's secrets, NODE_OPTIONS hooks): only what a process needs to run, and the
 * proxy's own switches.
 */
function daemonEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const kept: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(env)) {
    if (KEPT_VARIABLES.has(name) || name.startsWith('LC_') || name.startsWith('PORTBROKER_PROXY_')) kept[name] = value;
  }
  return kept;
}

const KEPT_VARIABLES = new Set(['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'TZ', 'TMPDIR', 'NO_COLOR']);


async function exited(pid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(20);
  }
  return !isAlive(pid);
}

function signal(pid: number | undefined, name: NodeJS.Signals): void {
  if (!pid) return;
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

function rotateLog(file: string): void {
  if (sizeOf(file) > LOG_ROTATE_BYTES) renameSync(file, `${file}.1`);
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

function readFrom(file: string, offset: number): string {
  try {
    const fd = openSync(file, 'r');
    try {
      const buffer = Buffer.alloc(Math.min(64 * 1024, Math.max(0, sizeOf(file) - offset)));
      readSync(fd, buffer, 0, buffer.length, offset);
      return buffer.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return '';
  }
}
