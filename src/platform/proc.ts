import { readdirSync, readFileSync } from 'node:fs';

/** Whether a process is alive: it answers kill(pid, 0) and has not ended (`hasEnded`). */
export function isAlive(pid: number | undefined): boolean {
  if (!pid || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const stat = readStat(pid);
  return !stat || !hasEnded(stat);
}

/**
 * Whether a process in /proc has ended although it is still listed. A zombie still answers kill(pid, 0) (PID 1 in
 * containers often does not reap orphans), so `Z` counts as ended, but only once its last thread is: a leader that
 * exits first shows `Z` while its other threads still hold its files, its listening sockets too (a Node server
 * told to exit is such a zombie for a moment).
 */
export function hasEnded(stat: Pick<ProcStat, 'state' | 'threads'>): boolean {
  return stat.state === 'X' || (stat.state === 'Z' && stat.threads <= 1);
}

/** Linux reports CPU times in /proc in USER_HZ, which is 100 on every architecture. */
export const TICKS_PER_SECOND = 100;

export interface ProcStat {
  state: string;
  ppid: number;
  pgid: number;
  /** User plus system CPU time, in clock ticks. */
  cpuTicks: number;
  /** Start time after boot, in clock ticks. */
  startTicks: number;
  /** Resident set size, in pages. */
  rssPages: number;
  threads: number;
}

export function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return {
    state: rest[0] ?? '?',
    ppid: Number(rest[1]),
    pgid: Number(rest[2]),
    cpuTicks: Number(rest[11]) + Number(rest[12]),
    threads: Number(rest[17]),
    startTicks: Number(rest[19]),
    rssPages: Number(rest[21]),
  };
}

/** The command line of a process as one string, or undefined when it is gone or unreadable. */
export function commandLine(pid: number): string | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const line = raw.split('\0').filter(Boolean).join(' ');
    if (line) return line;
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Every pid in /proc (empty where there is no /proc). */
export function procPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((name) => name.charCodeAt(0) >= 48 && name.charCodeAt(0) <= 57)
      .map(Number);
  } catch {
    return [];
  }
}
