import type { ProjectConfig } from '../config/project-config.js';
import { controlService, requestStart } from '../control/client.js';
import { UsageError } from '../errors.js';
import { controlSocket } from '../platform/paths.js';
import { sleep } from '../platform/sleep.js';
import { liveState } from '../ports/live-state.js';
import { readRegistry } from '../ports/registry.js';
import { serviceSpec } from '../project/open.js';
import { describeAdded } from './framework-flags.js';
import { supervisorAlive } from './ownership.js';
import type { SessionContext } from './session-context.js';
import type { ServiceSupervisor } from './supervisor.js';

/**
 * Which services a session runs and in what order they start: each once what it depends on is ready, a start
 * under way joined rather than repeated, a service another portbroker runs waited for there.
 */

/** What `up [names…]` runs (the named services and what they depend on) and what it starts now. */
export function selectServices(config: ProjectConfig, names: string[]): { services: string[]; startNow: string[] } {
  // Services `run` added beside the config (ad hoc) are `run`'s to start, not up's.
  const unknown = names.filter((n) => !config.order.includes(n));
  if (unknown.length > 0) {
    throw new UsageError(`unknown service${unknown.length === 1 ? '' : 's'} ${unknown.map((n) => `"${n}"`).join(', ')} in ${config.file ?? config.root}`, [
      `declared services: ${config.order.join(', ')}`,
    ]);
  }
  const wanted = new Set<string>();
  const add = (name: string) => {
    if (wanted.has(name)) return;
    wanted.add(name);
    config.services[name]!.dependsOn.forEach(add);
  };
  (names.length > 0 ? names : config.order).forEach(add);
  const services = config.order.filter((n) => wanted.has(n));
  // Named services start even when on-demand; without names, on-demand ones wait for their first request.
  const startNow = names.length > 0 ? services.filter((n) => names.includes(n) || config.services[n]!.start === 'always') : services.filter((n) => config.services[n]!.start === 'always');
  return { services, startNow: startNow.filter((n) => config.services[n]!.command) };
}

export class StartOrder {
  private readonly starts = new Map<string, Promise<boolean>>();
  private readonly announced = new Set<string>();

  constructor(
    private readonly ctx: SessionContext,
    /** A service could not start (or a dependency of it): `--abort-on-fail` ends the session. */
    private readonly onFailure: () => void,
  ) {}

  /** Whether a start is under way. */
  get busy(): boolean {
    return this.starts.size > 0;
  }

  /** Whether a start of `name` is under way. */
  starting(name: string): boolean {
    return this.starts.has(name);
  }

  /** Resolves once no start of `name` is under way (a start a stop cut short has let go). */
  async settled(name: string): Promise<void> {
    await this.starts.get(name)?.catch(() => undefined);
  }

  /** Starts a service once what it depends on is ready; resolves whether it became ready. Joins a start under way. */
  ensureStarted(name: string): Promise<boolean> {
    let start = this.starts.get(name);
    if (!start) {
      start = this.startWithDependencies(name).finally(() => this.starts.delete(name));
      this.starts.set(name, start);
    }
    return start;
  }

  private async startWithDependencies(name: string): Promise<boolean> {
    const { ctx } = this;
    if (ctx.stopping) return false;
    if (ctx.elsewhere.has(name)) {
      const ready = await this.waitElsewhere(name);
      if (!ready && !ctx.stopping) ctx.setStatus(name, 'crashed');
      return ready;
    }
    const sup = ctx.supervisors.get(name);
    // A reserved port with no command (a database run by hand): nothing to wait for.
    if (!sup) return true;
    if (sup.status === 'running' && sup.active) return true;
    const spec = serviceSpec(ctx.project, name);
    if (spec.dependsOn.length > 0) {
      const pending = spec.dependsOn.filter((dep) => ctx.statuses.get(dep) !== 'running' && ctx.statuses.get(dep) !== 'elsewhere');
      if (pending.length > 0) {
        ctx.statuses.set(name, 'waiting');
        ctx.emit({ type: 'status', service: name, status: 'waiting', waitingFor: pending });
      }
      const results = await Promise.all(spec.dependsOn.map((dep) => this.ensureStarted(dep)));
      const missing = spec.dependsOn.filter((_dep, i) => !results[i]);
      // Stopping, or replaced meanwhile by a config edit (which starts the new one itself).
      if (ctx.stopping || ctx.supervisors.get(name) !== sup) return false;
      if (missing.length > 0) {
        ctx.setStatus(name, 'crashed');
        ctx.notice('error', `${name} was not started: it depends on ${missing.join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} not running`, name);
        this.onFailure();
        return false;
      }
    }
    this.announce(name, sup);
    const outcome = await sup.start();
    if (outcome === 'failed' && !ctx.stopping) this.onFailure();
    return outcome === 'ready';
  }

  /** Says once what portbroker changed in a service's command. */
  private announce(name: string, sup: ServiceSupervisor): void {
    if (this.announced.has(name)) return;
    this.announced.add(name);
    const { conflict } = sup.command;
    const added = describeAdded(sup.command);
    if (added) this.ctx.notice('info', `${name}: ${added}`, name);
    if (conflict) {
      this.ctx.notice(
        'warn',
        `${name}: its command sets port ${conflict}, but portbroker reserved ${sup.port} for it; the proxy and the *_URL variables point at ${sup.port}\nwrite $PORT (or {port}) instead of ${conflict} in its command`,
        name,
      );
    }
  }

  /**
   * Another portbroker runs it: wait until that one reports it running, asking it to start an on-demand one,
   * and to start again one that crashed (it gave up) or was stopped: that is what `up <name>` asks for.
   */
  private async waitElsewhere(name: string): Promise<boolean> {
    const { ctx } = this;
    const owner = ctx.elsewhere.get(name)!;
    const recorded = readRegistry(ctx.home).checkouts[ctx.root]?.services[name];
    const state = recorded ? liveState(recorded) : undefined;
    if (recorded && !recorded.onDemand && (state === 'crashed' || state === 'stopped')) return this.startElsewhere(name, owner, state);
    const deadline = Date.now() + serviceSpec(ctx.project, name).ready.timeoutMs;
    let asked = false;
    while (!ctx.stopping && Date.now() < deadline) {
      const rec = readRegistry(ctx.home).checkouts[ctx.root]?.services[name];
      if (rec?.state === 'running') return true;
      if (!supervisorAlive(ctx.home, owner)) break;
      if (rec?.onDemand && rec.state !== 'starting' && !asked) {
        asked = true;
        await requestStart(controlSocket(ctx.home, owner), name).catch(() => undefined);
      }
      await sleep(100);
    }
    return false;
  }

  private async startElsewhere(name: string, owner: number, state: 'crashed' | 'stopped'): Promise<boolean> {
    const { ctx } = this;
    const spec = serviceSpec(ctx.project, name);
    ctx.notice('info', `${name} is ${state} under portbroker pid ${owner}; asking it to start ${name} again`, name);
    try {
      const result = await controlService(controlSocket(ctx.home, owner), name, 'start', spec.ready.timeoutMs + spec.shutdownGraceMs + 10_000);
      if (result.state === 'running') {
        ctx.notice('info', `portbroker pid ${owner} ${result.message}`, name);
        return true;
      }
      ctx.notice('error', `${result.message} (it runs under portbroker pid ${owner}: its terminal shows why)`, name);
    } catch (error) {
      ctx.notice('error', `portbroker pid ${owner} could not start ${name}: ${(error as Error).message}`, name);
    }
    return false;
  }
}
