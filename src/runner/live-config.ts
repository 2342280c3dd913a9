import path from 'node:path';
import { configFiles, watchConfigFiles, type ConfigWatch, type Fingerprint } from '../config/watch.js';
import { UsageError } from '../errors.js';
import { statePaths } from '../platform/paths.js';
import { serviceSpec } from '../project/open.js';
import { describeReload, planReload, touchedBy, unappliable, type ReloadOutcome, type ReloadPlan, type Selection, type SelectionLoader } from './config-reload.js';
import type { OnDemand } from './on-demand.js';
import { claimAdded } from './open-checkout.js';
import { forgetServices, releaseCheckout } from './ownership.js';
import type { ServiceControl } from './service-control.js';
import type { SessionContext } from './session-context.js';
import type { StartOrder } from './start-order.js';
import type { ServiceSupervisor } from './supervisor.js';
import { takeOnService } from './take-on.js';

/**
 * Live config reload: while `up` runs, a saved edit of its config is loaded and checked like a fresh `up` would
 * (schema, dependency cycles, busy pinned ports); a bad one is reported in one line and changes nothing.
 * A good one is applied: services whose spec changed are stopped and started again with the new spec, added ones
 * are reserved, claimed as `up` claims its services at start (`claimAdded`), and started, removed ones are stopped
 * and their reservation (and with it their route) released.
 *
 * Edits are applied one at a time, never in the middle of a `restart`/`stop`/`start` of a service the edit touches,
 * and once the starts of those services under way have settled (a service still booting is not cut short: its
 * dependents would fail with it; other services' starts go on). On-demand starts asked meanwhile wait for the edit.
 */

export interface LiveConfigHooks {
  /** The session's current selection, and where to record the new one. */
  selection(): Selection;
  select(next: Selection): void;
  /** A supervisor for a service of the (new) project, set up as the session sets up its own. */
  supervise(name: string): ServiceSupervisor;
  /** An edit was applied: routes and the hosts block follow the new services; the session may be over. */
  applied(): Promise<void>;
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
    private readonly onDemand: OnDemand,
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
    // The files `up` fingerprinted are the ones to watch; after a reload, the bundle cache lists them anew.
    const files = loaded ? [...loaded.keys()] : configFiles(file, statePaths(this.ctx.home).configCache);
    if (files.join('\0') === this.watched) return;
    try {
      const previous = this.watch;
      this.watch = watchConfigFiles(files, () => void this.reload(file, load).then(() => this.start(file, load)), loaded);
      this.watched = files.join('\0');
      previous?.close();
    } catch (error) {
      const hint = (error as NodeJS.ErrnoException).code === 'ENOSPC' ? ' (raise fs.inotify.max_user_watches)' : '';
      this.ctx.notice('warn', `config edits will not be applied live: cannot watch ${file}: ${(error as Error).message}${hint}`);
    }
  }

  close(): void {
    this.watch?.close();
  }

  /** Loads the config again and applies it, after any edit still being applied. Never rejects. */
  reload(file: string, load: SelectionLoader): Promise<void> {
    this.pending++;
    const next = this.queue
      .then(() => this.loadAndApply(file, load))
      .catch((error: Error) => this.ctx.notice('error', `config change not fully applied: ${error.message}`))
      .finally(() => this.pending--);
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
    const touched = touchedBy(plan);
    const shown = path.relative(ctx.root, file) || file;
    let done!: () => void;
    ctx.reloading = new Promise((resolve) => (done = resolve));
    let outcome: ReloadOutcome | undefined;
    try {
      outcome = await this.actions.exclusive(touched, async () => {
        // Those run here are stopped. One still booting is let finish first (cut short, its dependents would fail
        // with it); the starts of services the edit does not touch go on meanwhile.
        const stopped = touched.filter((name) => !ctx.elsewhere.has(name));
        const booting = stopped.filter((name) => this.order.starting(name));
        if (booting.length > 0) ctx.notice('info', `${shown} changed; applying it once ${booting.join(', ')} ${booting.length === 1 ? 'has' : 'have'} finished starting`);
        await Promise.all(booting.map((name) => this.order.settled(name)));
        return this.apply(plan, stopped, before, next);
      });
      if (outcome) ctx.notice('info', describeReload(plan, outcome, shown));
    } finally {
      ctx.reloading = undefined;
      done();
    }
    // The proxy and the hosts block follow the new routes; on-demand starts need not wait for that.
    if (outcome && touched.length + plan.added.length > 0) await this.hooks.applied();
  }

  /** `stopped`: the services of `plan` run here. Undefined when the session began ending meanwhile (it stops everything itself). */
  private async apply(plan: ReloadPlan, stopped: string[], before: Selection, next: Selection): Promise<ReloadOutcome | undefined> {
    const { ctx } = this;
    // Running (or restarting) now: started again with the new spec once stopped.
    const wasActive = new Set(plan.changed.filter((name) => ctx.supervisors.get(name)?.active));
    for (const name of stopped) this.onDemand.clearTimer(name);
    await Promise.all(
      stopped.map(async (name) => {
        await ctx.supervisors.get(name)?.stop(Date.now() + serviceSpec(before.project, name).shutdownGraceMs);
        await this.order.settled(name); // a start the stop cut short has let go
      }),
    );
    if (ctx.stopping) return undefined;

    const outcome: ReloadOutcome = { restarted: [], updated: [], elsewhere: new Map() };
    for (const name of plan.changed) if (ctx.elsewhere.has(name)) outcome.elsewhere.set(name, ctx.elsewhere.get(name)!);
    for (const name of plan.removed) delete next.project.checkout.services[name];
    ctx.project = next.project;
    this.hooks.select(next);
    for (const name of [...plan.removed, ...plan.dropped]) this.forget(name);
    // Deleted from the config: reservation and route go. No longer needed: stopped, as a session's end leaves it.
    // A registry that cannot be written now must not leave the changed services down: say so, and go on.
    const warn = (what: string, fix: string) => (error: Error) => ctx.notice('warn', `cannot ${what} in the registry (${error.message}); ${fix}`);
    await Promise.all([
      plan.removed.length > 0 &&
        forgetServices(ctx.home, ctx.root, plan.removed).catch(warn(`release ${plan.removed.join(', ')} (removed from the config)`, '`portbroker release --stale` does it later')),
      plan.dropped.length > 0 &&
        releaseCheckout(ctx.home, ctx.root, plan.dropped, {}, false).catch(warn(`record ${plan.dropped.join(', ')} as stopped`, '`portbroker ls` shows them stopped anyway, their processes gone')),
    ]);
    if (ctx.stopping) return undefined;

    // Claiming them writes the registry; ending what a killed portbroker left of them signals processes: either may fail.
    const owners = await claimAdded(ctx, plan.added).catch((error: Error) => {
      ctx.notice('warn', `cannot take on ${plan.added.join(', ')} as this up's (${error.message}); starting them here anyway`);
      return new Map<string, number>();
    });
    if (ctx.stopping) return undefined;
    const starts: Array<Promise<boolean>> = [];
    for (const name of [...plan.changed.filter((n) => !ctx.elsewhere.has(n)), ...plan.added]) {
      const old = ctx.supervisors.get(name);
      old?.logFile.close();
      ctx.supervisors.delete(name);
      const spec = serviceSpec(next.project, name);
      const waitsForRequest = spec.start === 'on-demand' && !next.startNow.includes(name) && !wasActive.has(name);
      takeOnService(ctx, name, { owner: owners.get(name), waitsForRequest, supervise: () => this.hooks.supervise(name) });
      if (!ctx.supervisors.has(name)) continue;
      // A crashed one starts too (the edit may be its fix); one stopped on purpose stays down, a sleeping
      // on-demand one waits for its next request.
      const startNow = !ctx.held.has(name) && (wasActive.has(name) || next.startNow.includes(name));
      if (startNow) starts.push(this.order.ensureStarted(name));
      else {
        if (ctx.held.has(name)) ctx.setStatus(name, 'stopped');
        if (old) outcome.updated.push(name);
      }
      if (startNow && old) outcome.restarted.push(name);
    }
    await Promise.all(starts);
    await ctx.publisher.flush();
    return outcome;
  }

  /** A service the session no longer runs (its supervisor was stopped). */
  private forget(name: string): void {
    const { ctx } = this;
    ctx.supervisors.get(name)?.logFile.close();
    ctx.supervisors.delete(name);
    ctx.statuses.delete(name);
    ctx.elsewhere.delete(name);
    // Its state, and whether it was held, with it.
    ctx.publisher.forget(name);
  }
}

/** An error as one line: its message and its first hint. */
function oneLine(error: Error): string {
  const details = (error as { details?: string[] }).details ?? [];
  return [error.message.split('\n')[0], details[0]].filter(Boolean).join('; ');
}
