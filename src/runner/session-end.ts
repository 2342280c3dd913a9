import { liveState } from '../ports/live-state.js';
import { readRegistry } from '../ports/registry.js';
import type { SessionContext } from './session-context.js';

/** What a session says when it ends by itself, and what it checks about services another portbroker runs. */

/** Why a session with nothing left to run ends, for people; undefined when there is nothing to say. */
export function finishedMessage(ctx: SessionContext): string | undefined {
  if (ctx.supervisors.size > 0) return 'no service is running any more';
  if (ctx.elsewhere.size === 0) return undefined;
  const owners = [...new Set(ctx.elsewhere.values())].join(', ');
  const one = ctx.elsewhere.size === 1;
  return `nothing to start here: ${[...ctx.elsewhere.keys()].join(', ')} already run${one ? 's' : ''} under portbroker pid ${owners}\nstop ${one ? 'it' : 'them'} there (Ctrl-C in its terminal, or kill -INT ${owners}) to start ${one ? 'it' : 'them'} here`;
}

/** Whether the other portbroker that owns a service has it running (or starting, or waiting on demand). */
export function ownerRuns(ctx: SessionContext, name: string): boolean {
  const rec = readRegistry(ctx.home).checkouts[ctx.root]?.services[name];
  return !rec || rec.onDemand === true || !['crashed', 'stopped'].includes(liveState(rec));
}
