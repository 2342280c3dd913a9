import { existsSync } from 'node:fs';
import { controlSocket } from '../platform/paths.js';
import { commandLine, isAlive } from '../platform/proc.js';
import type { CheckoutRecord, ServiceRecord, ServiceState } from './registry.js';

/**
 * What a reservation's state really is now. The registry says what a supervisor last wrote; processes die
 * without writing. Every reader — `ls`, `doctor`, `release`, the proxy, the dashboard — asks `serviceState`, so
 * they all say the same thing:
 * - a `running`/`starting` record whose process is gone is `stopped`;
 * - one whose process lives but whose supervisor (`up`/`run`) is gone is `orphaned`: it still serves, the proxy
 *   still routes to it, and the next `up` of its checkout adopts or ends it.
 */

export type LiveState = ServiceState | 'orphaned';

export function serviceState(home: string, checkout: CheckoutRecord, record: ServiceRecord): LiveState {
  const state = liveState(record);
  if (state !== 'running' && state !== 'starting') return state;
  // A service is its own supervisor's (`up`, or a `run` beside it), else the checkout's.
  return supervisorAlive(home, record.owner ?? checkout.ownerPid) ? state : 'orphaned';
}

/** Whether something answers on the service's port: traffic may be forwarded, its pid is worth showing. */
export function isServing(state: LiveState): state is 'running' | 'starting' | 'orphaned' {
  return state === 'running' || state === 'starting' || state === 'orphaned';
}

/** The recorded state with dead processes counted as stopped (the supervisor itself is not considered). */
export function liveState(service: ServiceRecord): ServiceState {
  if (service.state !== 'running' && service.state !== 'starting') return service.state;
  return isAlive(service.pid) ? service.state : 'stopped';
}

/**
 * Whether `pid` is a live portbroker supervisor. A dead supervisor's pid may have been reused by an unrelated
 * process, so a live pid must also look like portbroker: its control socket exists, or its command line names
 * portbroker. (Erring towards "alive" only means a service is not started twice.)
 */
export function supervisorAlive(home: string, pid: number | undefined): boolean {
  if (!pid || !isAlive(pid)) return false;
  if (pid === process.pid || existsSync(controlSocket(home, pid))) return true;
  const cmd = commandLine(pid);
  return cmd === undefined || /portbroker|cli[/\\]main\.[cm]?js/.test(cmd);
}
