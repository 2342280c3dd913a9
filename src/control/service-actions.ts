import { controlService, ControlError } from './client.js';
import type { ActionResult, ControlAction } from './protocol.js';
import { PortbrokerError } from '../errors.js';
import { controlSocket } from '../platform/paths.js';
import { isAlive } from '../platform/proc.js';
import type { CheckoutRecord } from '../ports/registry.js';
import { supervisorAlive } from '../runner/ownership.js';

/**
 * Finding the supervisor of a service from its registry record, and asking it over the control channel:
 * what `portbroker restart/stop/start`, the dashboard's buttons and the programmatic API share.
 */

export type Supervision = { kind: 'live'; pid: number; socket: string } | { kind: 'gone'; pid: number } | { kind: 'none' };

/** Which live portbroker process runs a service of a checkout, if any. */
export function supervisionOf(home: string, checkout: CheckoutRecord, service: string): Supervision {
  const owner = checkout.services[service]?.owner;
  if (owner === undefined) return { kind: 'none' };
  if (!supervisorAlive(home, owner)) return { kind: 'gone', pid: owner };
  return { kind: 'live', pid: owner, socket: controlSocket(home, owner) };
}

/** The one-line error for a service no live supervisor runs, with the command that fixes it. */
export function notSupervised(service: string, supervision: Supervision, upCommand: string): PortbrokerError {
  if (supervision.kind === 'gone') {
    return new PortbrokerError(`${service} is not running: the portbroker that ran it (pid ${supervision.pid}) is gone`, {
      details: [`start it again with \`${upCommand}\` (that also ends what the old one left running)`],
    });
  }
  return new PortbrokerError(`${service} is not running under any portbroker`, { details: [`start it with \`${upCommand}\``] });
}

/** Carries out one action on one service through its supervisor; throws the supervisor's refusal as one line. */
export async function actOn(home: string, checkout: CheckoutRecord, service: string, action: ControlAction, timeoutMs: number): Promise<ActionResult> {
  const supervision = supervisionOf(home, checkout, service);
  if (supervision.kind !== 'live') throw notSupervised(service, supervision, `portbroker up ${service}`);
  try {
    return await controlService(supervision.socket, service, action, timeoutMs);
  } catch (error) {
    if (error instanceof ControlError) throw new PortbrokerError(`${service}: ${error.message}`);
    // The process may have ended between the check and the call.
    if (!isAlive(supervision.pid)) throw notSupervised(service, { kind: 'gone', pid: supervision.pid }, `portbroker up ${service}`);
    throw new PortbrokerError(`cannot reach the portbroker running ${service} (pid ${supervision.pid}): ${(error as Error).message}`);
  }
}
