import { isAlive } from '../platform/proc.js';
import type { CheckoutRecord, ServiceRecord, ServiceState } from './registry.js';

/**
 * What a reservation's state really is now. The registry says what a supervisor last wrote; processes die
 * without writing. Every reader — `ls`, `doctor`, `release`, the proxy, the dashboard — asks `serviceState` (and
 * `waitsForRequest` of an on-demand service), so they all say the same thing:
 * - a `running`/`starting` record whose process is gone is `stopped`;
 * - one whose process lives but whose supervisor (`up`/`run`) is gone is `orphaned`: it still serves, the proxy
 *   still routes to it, and the next `up` of its checkout adopts or ends it.
 */

export type LiveState = ServiceState | 'orphaned';

/** Whether a process lives: `isAlive`, or an answer from one pass over /proc when many are asked at once. */
export type Liveness = (pid: number | undefined) => boolean;

export function serviceState(checkout: CheckoutRecord, record: ServiceRecord, alive: Liveness = isAlive): LiveState {
  const state = liveState(record, alive);
  if (state !== 'running' && state !== 'starting') return state;
  // A service is its own supervisor's (`up`, or a `run` beside it), else the checkout's. A record that names no
  // supervisor at all was not written by one that could die: it is taken as it is.
  const supervisor = record.owner ?? checkout.ownerPid;
  return supervisor === undefined || alive(supervisor) ? state : 'orphaned';
}

/**
 * Whether an on-demand service waits for its first request: not running, not stopped on request, and its
 * supervisor (which starts it) alive. `ls`, the dashboard, MCP and `up`'s table say `on-demand` then.
 */
export function waitsForRequest(record: ServiceRecord, alive: Liveness = isAlive): boolean {
  if (record.onDemand !== true || record.held === true || record.owner === undefined || !alive(record.owner)) return false;
  const state = liveState(record, alive);
  return state === 'reserved' || state === 'stopped';
}

/** Whether something answers on the service's port: traffic may be forwarded, its pid is worth showing. */
export function isServing(state: LiveState): state is 'running' | 'starting' | 'orphaned' {
  return state === 'running' || state === 'starting' || state === 'orphaned';
}

/** The recorded state with dead processes counted as stopped (the supervisor itself is not considered). */
export function liveState(service: ServiceRecord, alive: Liveness = isAlive): ServiceState {
  if (service.state !== 'running' && service.state !== 'starting') return service.state;
  return alive(service.pid) ? service.state : 'stopped';
}
