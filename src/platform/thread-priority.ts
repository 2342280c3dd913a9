import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * Lowers the calling thread's CPU priority by `steps` nice levels, so that its work gives way to the process's
 * other threads when the CPU is short. On Linux each thread has a nice value of its own, set through its thread id;
 * elsewhere this does nothing.
 */
export function lowerThreadPriority(steps: number): void {
  if (process.platform !== 'linux') return;
  try {
    // This thread's entry: <pid>/task/<tid>.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    setPriority(tid, Math.min(19, getPriority(tid) + steps));
  } catch {
    // No /proc, or a sandbox that refuses setpriority: the thread runs at the process's priority.
  }
}
