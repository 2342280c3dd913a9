import os from 'node:os';
import type { Readable } from 'node:stream';
import { isAlive } from '../platform/proc.js';
import { liveGroups } from '../platform/process-groups.js';
import { markedProcesses } from './marked-processes.js';
import type { ExitStatus, ServiceProcess } from './spawn.js';

/**
 * The processes one service consists of right now: the group portbroker spawned, or, once a command
 * daemonized itself (exited 0 but left processes behind), the processes it left, adopted and watched.
 */
export interface Unit {
  kind: 'spawned' | 'adopted';
  /** What the registry records: the group leader. */
  pid: number;
  groups: number[];
  pids: number[];
  exited: Promise<ExitStatus>;
}

export function spawnedUnit(proc: ServiceProcess): Unit {
  return { kind: 'spawned', pid: proc.pid, groups: [proc.pid], pids: [proc.pid], exited: proc.exited };
}

/** Processes of `service` still alive after its unit ended: group members and anything carrying its mark. */
export function leftovers(unit: Unit, service: string): { groups: number[]; pids: number[] } {
  const groups = new Set<number>();
  const pids = new Set<number>();
  for (const g of liveGroups(unit.groups)) groups.add(g);
  for (const p of markedProcesses(process.pid)) {
    if (p.service !== service) continue;
    pids.add(p.pid);
    if (p.pgid !== process.pid) groups.add(p.pgid);
  }
  // Without /proc only the group is known: its leader stands for it.
  if (pids.size === 0) for (const g of groups) pids.add(g);
  return { groups: [...groups], pids: [...pids] };
}

/** Watches processes a daemonizing command left behind, as if they were the service. */
export function adoptedUnit(left: { groups: number[]; pids: number[] }): Unit {
  const leader = left.pids.find((p) => left.groups.includes(p)) ?? left.pids[0]!;
  const exited = new Promise<ExitStatus>((resolve) => {
    const check = () => {
      if (liveGroups(left.groups).size === 0 && !left.pids.some((p) => isAlive(p))) resolve({ code: null, signal: null });
      else setTimeout(check, 250).unref();
    };
    check();
  });
  return { kind: 'adopted', pid: leader, groups: left.groups, pids: left.pids, exited };
}

/** Waits until the child's output pipes close, or briefly: a process it left behind may hold them open. */
export function outputSettled(proc: ServiceProcess): Promise<void> {
  const streams = [proc.child.stdout, proc.child.stderr].filter((s): s is Readable => !!s && !s.readableEnded && !s.destroyed);
  if (streams.length === 0) return Promise.resolve();
  return new Promise((resolve) => {
    let open = streams.length;
    const timer = setTimeout(resolve, 200);
    for (const s of streams) {
      s.once('close', () => {
        if (--open === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
    }
  });
}

/** "exited with code 1", "was killed by SIGSEGV". */
export function describeExit(status: ExitStatus): string {
  if (status.signal) return `was killed by ${status.signal}`;
  if (status.code === null) return 'ended (its processes are gone)';
  return `exited with code ${status.code}`;
}

export function seconds(ms: number): string {
  if (ms < 10_000) return `${Number((ms / 1000).toFixed(ms < 1000 ? 2 : 1))} s`;
  return `${Math.round(ms / 1000)} s`;
}

/** A process's status as a shell reports it: its code, or 128 + the signal that killed it. */
export function exitStatus(exit: { code: number | null; signal: NodeJS.Signals | null } | undefined): number {
  if (!exit) return 1;
  if (exit.code !== null) return exit.code;
  return exit.signal ? 128 + (os.constants.signals[exit.signal] ?? 0) : 1;
}
