import { taggedProcesses } from '../platform/process-groups.js';
import { SUPERVISOR_VARIABLE } from './process-env.js';

/**
 * The one sweep for "processes a supervisor started": every service process carries its supervisor's pid in
 * `SUPERVISOR_VARIABLE`, and its children inherit it, so those that left their process group are found too.
 * Used for a service's leftovers, a session's leftovers at shutdown, the exit safety net, and the orphans of
 * a supervisor that was killed. Empty where there is no /proc.
 */

export interface MarkedProcess {
  pid: number;
  pgid: number;
  /** The supervisor that started it. */
  supervisor: number;
  service?: string;
  project?: string;
}

export function markedProcesses(supervisors: number | ReadonlySet<number>): MarkedProcess[] {
  const wanted = typeof supervisors === 'number' ? new Set([supervisors]) : supervisors;
  if (wanted.size === 0) return [];
  return taggedProcesses(SUPERVISOR_VARIABLE, (v) => wanted.has(Number(v)), ['PORTBROKER_SERVICE', 'PORTBROKER_PROJECT']).map((p) => ({
    pid: p.pid,
    pgid: p.pgid,
    supervisor: Number(p.tag),
    service: p.env.PORTBROKER_SERVICE,
    project: p.env.PORTBROKER_PROJECT,
  }));
}
