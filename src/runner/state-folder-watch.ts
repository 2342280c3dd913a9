import { existsSync } from 'node:fs';
import { controlSocket } from '../platform/paths.js';
import { ensureStateFolder } from '../platform/state-folder.js';
import { updateRegistry, type RegistryOptions } from '../ports/registry.js';
import { setOwner } from './ownership.js';
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

export interface RestoreHooks extends RegistryOptions {
  /** Listens again on the control socket (its file went with the folder). */
  reopenControl: (socket: string) => Promise<void>;
  /** Brings the proxy back (it stopped when the registry vanished). */
  restoreProxy?: () => Promise<void>;
}

/** The state folder was deleted: recreate it, put the session's services back on their ports, restart the proxy. */
export async function restoreStateFolder(ctx: SessionContext, hooks: RestoreHooks): Promise<void> {
  if (ctx.stopping) return;
  const ours = [...ctx.supervisors.keys()];
  ctx.notice('warn', `the state folder ${ctx.home} was deleted: recreating it, publishing ${ours.join(', ') || 'the reservations'} again on the same ports, restarting the proxy`);
  const socket = controlSocket(ctx.home, process.pid);
  try {
    await restoreCheckout(ctx, { onWarning: hooks.onWarning });
    for (const sup of ctx.supervisors.values()) sup.logFile.reopen();
    ctx.log.reopen();
    await hooks.reopenControl(socket);
    await hooks.restoreProxy?.();
  } catch (error) {
    ctx.notice('error', `cannot restore the state folder ${ctx.home}: ${(error as Error).message}`);
  }
}

/**
 * Recreates the folder and puts this checkout back in the registry as the session opened it: the same ports,
 * this session as the supervisor of its services, their states as last published.
 */
export async function restoreCheckout(ctx: SessionContext, options: RegistryOptions): Promise<void> {
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
      if (checkout.ownerPid === undefined || checkout.ownerPid === me) setOwner(checkout, ctx.home, me, ctx.invokedAs);
    },
    options,
  );
  ctx.publisher.republish();
  await ctx.publisher.flush();
}
