import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * Lowers the calling thread's CPU priority by `steps` nice levels, so that its work gives way to the process's
 * other threads when the CPU is short. On Linux each thread has a nice value of its own, set through its thread id;
 * elsewhere this does nothing. Returns the nice value set, or undefined where none was.
 */
export function lowerThreadPriority(steps: number): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    // This thread's entry: <pid>/task/<tid>.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    const nice = Math.min(19, getPriority(tid) + steps);
    setPriority(tid, nice);
    return nice;
  } catch {
    // No /proc, or a sandbox that refuses setpriority: the thread runs at the process's priority.
    return undefined;
  }
}
