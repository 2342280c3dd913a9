import { readStat, TICKS_PER_SECOND } from '../platform/proc.js';
import { processTrees } from '../platform/process-tree.js';
import { listenersOf } from '../platform/sockets.js';
import { sleep } from '../platform/sleep.js';
import type { PreparedCommand } from './command-line.js';

/**
 * Finds the real port of a service that ignores PORT: while it starts, the sockets its process tree listens on
 * are watched, and one that has settled on other ports instead of its own is reported in seconds, instead of
 * after the whole readiness timeout with "nothing accepted connections" (`flask run` on 5000, `manage.py
 * runserver` on 8000). Linux only (it reads /proc); elsewhere the readiness timeout still catches it.
 */

export interface PortWatchOptions {
  port: number;
  /** The service's process groups right now. */
  groups: () => number[];
  /** Ports it may listen on besides its own: its project's other reservations (a debugger port passed in). */
  allowed?: ReadonlySet<number>;
  signal: AbortSignal;
  /** How long it must have listened elsewhere, and not on its port, while idle (default 2 s). */
  settleMs?: number;
}

/**
 * Below this share of one core over the settle period, the service is done starting. A server that opens a
 * debugger or HMR socket first and still boots towards its own port (a JVM, a bundler) uses far more; a
 * reloader that polls file times far less.
 */
const IDLE_SHARE = 0.1;
/** Most servers listen on their port within this: no /proc scan is spent on them. */
const FIRST_LOOK_MS = 500;
const INTERVAL_MS = 250;
const RESCAN_MS = 1_000;

/**
 * Resolves with the ports the service listens on instead of its own once it has listened there, and not on its
 * port, for `settleMs` while nearly idle; resolves undefined when `signal` aborts (it became ready, exited, or
 * is being stopped).
 */
export async function watchForWrongPort(options: PortWatchOptions): Promise<number[] | undefined> {
  const { port, signal, settleMs = 2_000 } = options;
  const allowed = options.allowed ?? new Set<number>();
  // CPU time of the tree while it listens elsewhere: the oldest sample still covering the settle period first.
  const samples: Array<{ at: number; ticks: number }> = [];
  let members: number[] = [];
  let scannedAt = 0;
  await sleep(FIRST_LOOK_MS, signal);
  while (!signal.aborted) {
    const now = Date.now();
    // Finding the tree reads every process's stat (tens of ms on a loaded machine): at most once per rescan.
    if (now - scannedAt >= RESCAN_MS) {
      members = [...processTrees(options.groups()).values()].flat().map((m) => m.pid);
      scannedAt = now;
    }
    const ports = new Set(listenersOf(members).map((l) => l.port));
    const elsewhere = [...ports].filter((p) => p !== port && !allowed.has(p)).sort((a, b) => a - b);
    const ticks = members.reduce((sum, pid) => sum + (readStat(pid)?.cpuTicks ?? 0), 0);
    // Fewer ticks than before: a process of it ended; its CPU history says nothing now.
    if (ports.has(port) || elsewhere.length === 0 || ticks < (samples.at(-1)?.ticks ?? 0)) {
      samples.length = 0;
    } else {
      samples.push({ at: now, ticks });
      while (samples.length > 1 && now - samples[1]!.at >= settleMs) samples.shift();
      const first = samples[0]!;
      const span = now - first.at;
      if (span >= settleMs && ((samples.at(-1)!.ticks - first.ticks) / TICKS_PER_SECOND) * 1000 <= IDLE_SHARE * span) return elsewhere;
    }
    await sleep(INTERVAL_MS, signal);
  }
  return undefined;
}

/** "web listens on 8000, not on its port 61234: …", with the fix: the flag, or the config edit. */
export function wrongPortMessage(name: string, port: number, ports: number[], command: PreparedCommand, kept = false): { message: string; fix: string[] } {
  const list = ports.length === 1 ? String(ports[0]) : `${ports.slice(0, -1).join(', ')} and ${ports.at(-1)}`;
  const outcome = kept ? '; it keeps running' : ', so portbroker stopped it';
  const message = `${name} listens on ${list}, not on its port ${port}: the proxy and the *_URL variables point at ${port}${outcome}`;
  if (command.conflict) return { message, fix: [`write $PORT (or {port}) instead of ${command.conflict} in its command`] };
  return {
    message,
    fix: [
      `make it listen on $PORT: pass the port on its command line (e.g. --port $PORT; {port} in the command becomes ${port}), or read the PORT variable in its code`,
      `or, to keep ${ports[0]}, pin it in the config: services.${name}.port: ${ports[0]}`,
    ],
  };
}
