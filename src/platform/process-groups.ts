import { readFileSync } from 'node:fs';
import { hasEnded, isAlive, procPids, readStat } from './proc.js';
import { sleep } from './sleep.js';

/**
 * Process groups and the processes a supervisor started. Every service runs in its own process group, so one
 * signal reaches the shell, the dev server and whatever they spawned. Processes that left the group (a
 * daemon that called setsid) are found by a variable the runner puts in every service's environment, which
 * their children inherit. Linux reads /proc; elsewhere only the group itself can be checked.
 */

const hasProc = process.platform === 'linux';

/** Sends `signal` to every process of group `pgid`; false when the group is gone. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1) return false;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** Sends `signal` to one process; false when it is gone. */
export function signalProcess(pid: number, signal: NodeJS.Signals): boolean {
  if (!Number.isInteger(pid) || pid <= 1) return false;
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Which of `pgids` still have a live member. Zombies do not count: PID 1 of a container may never reap the
 * orphans of a killed group, and a zombie holds no port and runs no code. One pass over /proc answers for
 * every group at once (shutdown polls this for all services together).
 */
export function liveGroups(pgids: Iterable<number>): Set<number> {
  const wanted = new Set(pgids);
  const live = new Set<number>();
  if (wanted.size === 0) return live;
  if (!hasProc) {
    for (const pgid of wanted) if (signalGroupProbe(pgid)) live.add(pgid);
    return live;
  }
  for (const pid of procPids()) {
    const stat = readStat(pid);
    if (!stat || hasEnded(stat)) continue;
    if (wanted.has(stat.pgid)) live.add(stat.pgid);
    if (live.size === wanted.size) break;
  }
  return live;
}

function signalGroupProbe(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface TaggedProcess {
  pid: number;
  pgid: number;
  /** The value of the tag variable. */
  tag: string;
  /** Other variables of its environment that the caller asked for. */
  env: Record<string, string>;
}

/**
 * Live processes whose environment holds `name` with a value `accept` agrees to, with the `fields` asked for.
 * Environments of other users' processes are unreadable and skipped: those are never ours. Empty where there
 * is no /proc.
 */
export function taggedProcesses(name: string, accept: (value: string) => boolean, fields: string[] = []): TaggedProcess[] {
  if (!hasProc) return [];
  const found: TaggedProcess[] = [];
  const prefix = `${name}=`;
  for (const pid of procPids()) {
    if (pid === process.pid) continue;
    let environ: string;
    try {
      environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
    } catch {
      continue;
    }
    if (!environ.includes(prefix)) continue;
    const vars = environ.split('\0');
    const tag = vars.find((v) => v.startsWith(prefix))?.slice(prefix.length);
    if (tag === undefined || !accept(tag)) continue;
    const stat = readStat(pid);
    if (!stat || hasEnded(stat)) continue;
    const env: Record<string, string> = {};
    for (const field of fields) {
      const entry = vars.find((v) => v.startsWith(`${field}=`));
      if (entry !== undefined) env[field] = entry.slice(field.length + 1);
    }
    found.push({ pid, pgid: stat.pgid, tag, env });
  }
  return found;
}

/**
 * Ends processes: SIGTERM to each group (and each process, for members that left their group), then SIGKILL
 * after `graceMs` to whatever is left. Resolves when none is alive: `exited` when SIGTERM was enough, `killed`
 * when SIGKILL was needed. `leaderExited` (the spawned child's exit) ends a wait between polls early.
 */
export async function terminate(targets: { groups?: number[]; pids?: number[] }, graceMs: number, leaderExited?: Promise<unknown>): Promise<'exited' | 'killed'> {
  const groups = [...new Set(targets.groups ?? [])].filter((g) => g > 1 && g !== process.pid);
  const pids = [...new Set(targets.pids ?? [])].filter((p) => p > 1 && p !== process.pid);
  const alive = () => liveGroups(groups).size > 0 || pids.some((p) => isAlive(p));
  if (!alive()) return 'exited';
  for (const g of groups) signalGroup(g, 'SIGTERM');
  for (const p of pids) signalProcess(p, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let interval = 5;
  while (alive()) {
    if (Date.now() >= deadline) {
      kill(groups, pids);
      // SIGKILL cannot be ignored; wait only for the kernel to finish with them.
      for (let i = 0; i < 100 && alive(); i++) await sleep(20);
      return 'killed';
    }
    // The group's leader exiting (a child's exit event) is the usual end: look again at once rather than at the
    // next poll. Its members, if any, are then polled.
    const wait = sleep(Math.min(interval, Math.max(1, deadline - Date.now())));
    if (leaderExited) await Promise.race([wait, leaderExited.then(() => (leaderExited = undefined))]);
    else await wait;
    interval = Math.min(50, interval * 2);
  }
  return 'exited';
}

/** SIGKILL at once, no waiting: a forced stop, or the last act of a process that is exiting. */
export function kill(groups: number[], pids: number[] = []): void {
  for (const g of groups) if (g !== process.pid) signalGroup(g, 'SIGKILL');
  for (const p of pids) if (p !== process.pid) signalProcess(p, 'SIGKILL');
}
