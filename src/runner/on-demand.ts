import { requestStart, touchService } from '../control/client.js';
import { ControlRefusal, type ControlHandlers } from '../control/server.js';
import { controlSocket } from '../platform/paths.js';
import { readRegistry } from '../ports/registry.js';
import { serviceSpec } from '../project/open.js';
import { supervisorAlive } from './ownership.js';
import { seconds } from './service-unit.js';
import type { SessionContext } from './session-context.js';
import type { StartOrder } from './start-order.js';

/**
 * What the control channel asks of a session, and the idle timers of on-demand services: the proxy asks for a
 * service that is down and reports traffic; an on-demand service with `idleStopMs` stops after that long
 * without a request.
 */
export class OnDemand implements ControlHandlers {
  private readonly idleTimers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly ctx: SessionContext,
    private readonly order: StartOrder,
  ) {}

  /**
   * The proxy asks for an on-demand service (or any service of ours that is down). The answer waits until the
   * registry says `starting`: the proxy then waits for `running` and does not mistake an earlier `crashed` for
   * the outcome of this start.
   */
  async start(name: string): Promise<boolean> {
    const { ctx } = this;
    // A config edit being applied may replace this service's supervisor: start the one it leaves.
    await ctx.reloading;
    const sup = ctx.supervisors.get(name);
    if (sup) {
      if (ctx.stopping) return true;
      if (ctx.held.has(name)) throw new ControlRefusal(`${name} was stopped with \`portbroker stop ${name}\`; \`portbroker start ${name}\` starts it again`);
      if (!sup.active) {
        sup.resetCrashes();
        ctx.publisher.set(name, 'starting');
      }
      void this.order.ensureStarted(name);
      this.touch(name);
      await ctx.publisher.flush();
      return true;
    }
    // The checkout's control socket is ours, but another portbroker of this checkout runs that service.
    const owner = ctx.elsewhere.get(name) ?? readRegistry(ctx.home).checkouts[ctx.root]?.services[name]?.owner;
    if (owner !== undefined && owner !== process.pid && supervisorAlive(ctx.home, owner)) {
      requestStart(controlSocket(ctx.home, owner), name).catch(() => undefined);
      return true;
    }
    return false;
  }

  touch(name: string): boolean {
    if (this.ctx.supervisors.has(name)) {
      this.armIdleTimer(name);
      return true;
    }
    const owner = this.ctx.elsewhere.get(name);
    if (owner !== undefined) touchService(controlSocket(this.ctx.home, owner), name);
    return owner !== undefined;
  }

  /** An on-demand service with `idleStopMs` stops after that long without a request. */
  armIdleTimer(name: string): void {
    const { ctx } = this;
    // Cleared first, whatever the spec: a timer armed for a supervisor a config edit replaced (by a request while
    // the edit was applied) ends when the new one runs, and finds it not running before.
    this.clearTimer(name);
    const spec = serviceSpec(ctx.project, name);
    if (spec.start !== 'on-demand' || spec.idleStopMs === undefined || ctx.stopping) return;
    const timer = setTimeout(() => {
      this.idleTimers.delete(name);
      const sup = ctx.supervisors.get(name);
      // Still starting (a slow boot on a loaded machine): idle time counts from when it runs, and its
      // `running` arms the timer again. Stopped now, it would leave the request that started it hanging.
      if (!sup?.active || sup.status !== 'running' || ctx.stopping) return;
      ctx.notice('info', `${name} stopped after ${seconds(spec.idleStopMs!)} without requests; the next request starts it again`, name);
      void sup.stop(Date.now() + spec.shutdownGraceMs).then(() => {
        if (!ctx.stopping) ctx.setStatus(name, 'on-demand');
      });
    }, spec.idleStopMs);
    timer.unref();
    this.idleTimers.set(name, timer);
  }

  clearTimer(name: string): void {
    clearTimeout(this.idleTimers.get(name));
    this.idleTimers.delete(name);
  }

  clearTimers(): void {
    for (const timer of this.idleTimers.values()) clearTimeout(timer);
    this.idleTimers.clear();
  }
}
