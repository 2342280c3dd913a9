import { liveState, waitsForRequest } from '../ports/live-state.js';
import { readRegistry } from '../ports/registry.js';
import type { SessionContext } from './session-context.js';

/** What a session says when it ends by itself, and what it checks about services another portbroker runs. */

/** Why a session with nothing left to run ends, for people; undefined when there is nothing to say. */
export function finishedMessage(ctx: SessionContext): string | undefined {
  if (ctx.supervisors.size > 0) return 'no service is running any more';
  if (ctx.elsewhere.size === 0) return undefined;
  const owners = [...new Set(ctx.elsewhere.values())].join(', ');
  const one = ctx.elsewhere.size === 1;
  // `down` stops them whether that portbroker has a terminal, runs in the background (`up -d`) or is a `run`.
  return `nothing to start here: ${[...ctx.elsewhere.keys()].join(', ')} ${one ? 'is' : 'are'} run by portbroker pid ${owners}\nstop ${one ? 'it' : 'them'} with \`portbroker down\` to start ${one ? 'it' : 'them'} here`;
}

/**
 * What the other portbroker that owns a service does with it: `runs` it (or starts it), waits to start it at its
 * first request (`on-demand`), or neither (it stopped or crashed there: undefined).
 */
export function ownerUse(ctx: SessionContext, name: string): 'runs' | 'on-demand' | undefined {
  const rec = readRegistry(ctx.home).checkouts[ctx.root]?.services[name];
  if (!rec) return 'runs';
  const state = liveState(rec);
  if (state === 'running' || state === 'starting') return 'runs';
  if (waitsForRequest(rec)) return 'on-demand';
  // Reserved: about to start there (its dependencies first).
  return state === 'reserved' ? 'runs' : undefined;
}
