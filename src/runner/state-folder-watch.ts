import { existsSync } from 'node:fs';
import { ensureStateFolder } from '../platform/state-folder.js';
import { updateRegistry, type RegistryOptions } from '../ports/registry.js';
import type { SessionContext } from './session-context.js';

/**
 * The state folder deleted under a running session (a cleanup script, `rm -rf ~/.local/state`) takes the
 * registry with it: the proxy stops (nothing left to route by) and `ls` would hand the running services new
 * ports. The session polls for the folder; when it is gone, `restore` brings back what this session owns.
 */

/** How often the session looks for its state folder. */
const CHECK_EVERY_MS = 1_000;

export interface StateFolderWatch {
  close(): void;
}

/** Calls `onGone` when the folder disappears (once per disappearance: not again while it runs). */
export function watchStateFolder(home: string, onGone: () => Promise<void>, everyMs = CHECK_EVERY_MS): StateFolderWatch {
  let restoring: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (restoring || existsSync(home)) return;
    restoring = onGone().finally(() => (restoring = undefined));
  }, everyMs);
  timer.unref();
  return { close: () => clearInterval(timer) };
}

/**
 * Recreates the folder and puts this checkout back in the registry as the session opened it: the same ports,
 * this session as the supervisor of its services, their states as last published.
 */
export async function restoreCheckout(ctx: SessionContext, control: string, options: RegistryOptions): Promise<void> {
  ensureStateFolder(ctx.home);
  const me = process.pid;
  const known = ctx.project.checkout;
  await updateRegistry(
    ctx.home,
    (data) => {
      // Another supervisor of this checkout (a `run` beside `up`) may have put it back first: add what is missing.
      const checkout = (data.checkouts[ctx.root] ??= { ...known, services: {} });
      for (const [name, rec] of Object.entries(known.services)) {
        if (checkout.services[name]) continue;
        const { pid: _pid, owner: _owner, ...reservation } = rec;
        checkout.services[name] = { ...reservation, state: 'reserved' };
      }
      for (const name of ctx.supervisors.keys()) if (checkout.services[name]) checkout.services[name]!.owner = me;
      if (checkout.ownerPid === undefined || checkout.ownerPid === me) {
        checkout.ownerPid = me;
        checkout.control = control;
      }
    },
    options,
  );
  ctx.publisher.republish();
  await ctx.publisher.flush();
}
