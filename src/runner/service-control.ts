import type { ActionResult, ControlAction } from '../control/protocol.js';
import { serviceSpec, servicePort } from '../project/open.js';
import type { OnDemand } from './on-demand.js';
import type { SessionContext } from './session-context.js';
import type { StartOrder } from './start-order.js';

/**
 * `restart`, `stop` and `start` of one service, asked over the control channel (by the CLI, the dashboard, a
 * program). Actions on one service run one after another: two `restart`s at once restart it twice, and both
 * are answered. A stopped service stays reserved and routed, and stays down (no on-demand start) until started.
 *
 * Dependents are left running on a restart: most clients reconnect, and restarting a whole chain would turn
 * one quick restart into many; name them too (`restart api web`) to restart them as well.
 */
export class ServiceControl {
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly ctx: SessionContext,
    private readonly order: StartOrder,
    private readonly onDemand: OnDemand,
  ) {}

  /** Undefined: not a service this session runs. */
  act(name: string, action: ControlAction): Promise<ActionResult | undefined> {
    if (!this.ctx.supervisors.has(name)) return Promise.resolve(undefined);
    return this.exclusive([name], () => this.run(name, action));
  }

  /** Runs `work` once no action on any of `names` is under way; actions asked meanwhile wait for it. */
  exclusive<T>(names: string[], work: () => Promise<T>): Promise<T> {
    const previous = Promise.all(names.map((name) => (this.queues.get(name) ?? Promise.resolve()).catch(() => undefined)));
    const next = previous.then(work);
    for (const name of names) this.queues.set(name, next);
    void next
      .catch(() => undefined)
      .finally(() => {
        for (const name of names) if (this.queues.get(name) === next) this.queues.delete(name);
      });
    return next;
  }

  private async run(name: string, action: ControlAction): Promise<ActionResult | undefined> {
    const { ctx } = this;
    // A config edit applied while this waited may have removed it (or its command): no longer ours to act on.
    const sup = ctx.supervisors.get(name);
    if (!sup) return undefined;
    const previousPid = sup.pid ?? null;
    if (ctx.stopping) return this.result(name, action, previousPid, `${name} was not ${action}ed: portbroker is stopping`);
    if (action !== 'start') {
      ctx.hold(name);
      this.onDemand.clearTimer(name);
      await sup.stop(Date.now() + serviceSpec(ctx.project, name).shutdownGraceMs);
      await this.order.settled(name);
    }
    if (action === 'stop') {
      // Answered once the registry says so: an `ls` right after `stop` must not still see it running.
      await ctx.publisher.flush();
      ctx.notice('info', `${name} stopped (\`portbroker start ${name}\` starts it again)`, name);
      return this.result(name, action, previousPid, previousPid === null ? `${name} was not running; it stays stopped` : `stopped ${name} (pid ${previousPid})`);
    }
    ctx.unhold(name);
    sup.resetCrashes();
    if (action === 'restart') ctx.notice('info', `restarting ${name}`, name);
    const ready = await this.order.ensureStarted(name);
    await ctx.publisher.flush();
    // A restart of what was not running starts it: said as what happened.
    const verb = action === 'restart' && previousPid !== null ? 'restarted' : 'started';
    const message = ready
      ? `${verb} ${name} (pid ${sup.pid ?? '?'}${previousPid !== null && previousPid !== sup.pid ? `, was ${previousPid}` : ''})`
      : `${name} did not start: see \`portbroker logs ${name}\``;
    return this.result(name, action, previousPid, message);
  }

  private result(name: string, action: ControlAction, previousPid: number | null, message: string): ActionResult {
    const sup = this.ctx.supervisors.get(name)!;
    const state = sup.status === 'running' ? 'running' : sup.status === 'crashed' ? 'crashed' : sup.active ? 'starting' : 'stopped';
    return { service: name, action, state, pid: sup.status === 'running' ? (sup.pid ?? null) : null, previousPid, port: servicePort(this.ctx.project, name), supervisor: process.pid, message };
  }
}
