import { serviceSpec } from '../project/open.js';
import { configFiles, watchConfigFiles, type ConfigWatch, type Fingerprint } from '../config/watch.js';
import { statePaths } from '../platform/paths.js';
import { UsageError } from '../errors.js';
import { describePlan, planReload, unappliable, type ReloadPlan, type Selection, type SelectionLoader } from './config-reload.js';
import { forgetServices } from './ownership.js';
import type { ServiceControl } from './service-control.js';
import type { SessionContext } from './session-context.js';
import type { StartOrder } from './start-order.js';
import type { ServiceSupervisor } from './supervisor.js';

/**
 * Live config reload: while `up` runs, a saved edit of its config is loaded and checked like a fresh `up` would
 * (schema, dependency cycles, busy pinned ports); a bad one is reported in one line and changes nothing.
 * A good one is applied: services whose spec changed are stopped and started again with the new spec, added ones
 * are reserved and started, removed ones are stopped and their reservation (and with it their route) released.
 * Edits are applied one at a time, and never in the middle of a `restart`/`stop`/`start` of the same service.
 */

export interface LiveConfigHooks {
  /** The session's current selection, and where to record the new one. */
  selection(): Selection;
  select(next: Selection): void;
  /** A supervisor for a service of the (new) project, set up as the session sets up its own. */
  supervise(name: string): ServiceSupervisor;
  /** A supervisor the session no longer uses (its log file is closed). */
  retire(sup: ServiceSupervisor): void;
}

export class LiveConfig {
  private queue: Promise<void> = Promise.resolve();
  private pending = 0;
  private watch: ConfigWatch | undefined;
  private watched = '';

  constructor(
    private readonly ctx: SessionContext,
    private readonly order: StartOrder,
    private readonly actions: ServiceControl,
    private readonly hooks: LiveConfigHooks,
  ) {}

  /** Whether an edit is being applied: services stopped for it are not the session ending. */
  get busy(): boolean {
    return this.pending > 0;
  }

  /**
   * Watches `file` and the local files it imports; each saved change is loaded with `load` and applied. `loaded`:
   * their content when the running config was loaded, so an edit saved since then is applied at once.
   */
  start(file: string, load: SelectionLoader, loaded?: Fingerprint): void {
    if (this.ctx.stopping) return;
    // A reload may change what the config imports: the watch follows (the old one runs until the new one does).
    const files = configFiles(file, statePaths(this.ctx.home).configCache);
    if (files.join('\0') === this.watched) return;
    try {
      const previous = this.watch;
      this.watch = watchConfigFiles(files, () => void this.reload(file, load).then(() => this.start(file, load)), loaded);
      this.watched = files.join('\0');
      previous?.close();
    } catch (error) {
      this.ctx.notice('warn', `config edits will not be applied live: cannot watch ${file}: ${(error as Error).message}`);
    }
  }

  close(): void {
    this.watch?.close();
  }

  /** Loads the config again and applies it (after any edit still being applied). Resolves with what was done. */
  reload(file: string, load: SelectionLoader): Promise<void> {
    this.pending++;
    const next = this.queue.then(() => this.loadAndApply(file, load)).finally(() => this.pending--);
    this.queue = next;
    return next;
  }

  private async loadAndApply(file: string, load: SelectionLoader): Promise<void> {
    const { ctx } = this;
    if (ctx.stopping) return;
    const before = this.hooks.selection();
    let next: Selection;
    try {
      next = await load((loaded) => {
        const refused = unappliable(before.project, loaded);
        if (refused) throw new UsageError(refused);
      });
    } catch (error) {
      ctx.notice('error', `config change not applied, the services keep the previous config: ${oneLine(error as Error)}`);
      return;
    }
    const plan = planReload(before, next);
    const touched = [...plan.changed, ...plan.removed];
    await this.actions.exclusive(touched, () => this.apply(plan, before, next));
    if (!ctx.stopping) ctx.notice('info', describePlan(plan, file));
  }

  private async apply(plan: ReloadPlan, before: Selection, next: Selection): Promise<void> {
    const { ctx } = this;
    // Running (or starting) now: started again with the new spec once stopped.
    const wasActive = new Set(plan.changed.filter((name) => ctx.supervisors.get(name)?.active));
    await Promise.all(
      [...plan.changed, ...plan.removed].map(async (name) => {
        const sup = ctx.supervisors.get(name);
        if (!sup) return;
        await sup.stop(Date.now() + serviceSpec(before.project, name).shutdownGraceMs);
        await this.order.settled(name);
      }),
    );
    if (ctx.stopping) return;
    ctx.project = next.project;
    this.hooks.select(next);
    for (const name of plan.removed) this.drop(name);
    if (plan.removed.length > 0) {
      await forgetServices(ctx.home, ctx.root, plan.removed).catch((error: Error) =>
        ctx.notice('warn', `cannot release ${plan.removed.join(', ')} in the registry: ${error.message}`),
      );
    }
    const starts: Promise<boolean>[] = [];
    // Another portbroker of this checkout runs it: that one applies the edit to it.
    for (const name of [...plan.changed, ...plan.added].filter((n) => !ctx.elsewhere.has(n))) {
      const old = ctx.supervisors.get(name);
      if (old) this.hooks.retire(old);
      ctx.supervisors.delete(name);
      const spec = serviceSpec(next.project, name);
      if (!spec.command) {
        ctx.setStatus(name, 'reserved');
        continue;
      }
      ctx.supervisors.set(name, this.hooks.supervise(name));
      // A crashed one starts too (the edit may be its fix); one stopped on purpose stays down, a sleeping
      // on-demand one waits for its next request.
      const startNow = !ctx.held.has(name) && (wasActive.has(name) || next.startNow.includes(name));
      if (startNow) starts.push(this.order.ensureStarted(name));
      else ctx.setStatus(name, ctx.held.has(name) ? 'stopped' : spec.start === 'on-demand' ? 'on-demand' : 'stopped');
    }
    await Promise.all(starts);
    await ctx.publisher.flush();
  }

  /** A service no longer in the config: forgotten by the session (its supervisor was stopped). */
  private drop(name: string): void {
    const { ctx } = this;
    const sup = ctx.supervisors.get(name);
    if (sup) this.hooks.retire(sup);
    ctx.supervisors.delete(name);
    ctx.statuses.delete(name);
    ctx.held.delete(name);
    ctx.elsewhere.delete(name);
    ctx.publisher.forget(name);
  }
}

/** An error as one line: its message and its first hint. */
function oneLine(error: Error): string {
  const details = (error as { details?: string[] }).details ?? [];
  return [error.message.split('\n')[0], details[0]].filter(Boolean).join('; ');
}
