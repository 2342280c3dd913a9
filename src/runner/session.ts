import { startControlServer, type ControlHandlers, type ControlServer } from '../control/server.js';
import { controlSocket, supervisorLogFile } from '../platform/paths.js';
import { serviceSpec, type Project } from '../project/open.js';
import type { RunnerEvent } from './events.js';
import type { Selection } from './config-reload.js';
import { LiveConfig } from './live-config.js';
import { LogFile } from './log-file.js';
import { OnDemand } from './on-demand.js';
import { openCheckout } from './open-checkout.js';
import { releaseCheckout } from './ownership.js';
import { RegistryPublisher } from './registry-publisher.js';
import { serviceViews, type ServiceView } from './service-views.js';
import { SessionContext } from './session-context.js';
import type { EndReason, SessionOptions } from './session-options.js';
import { killAll, stopInOrder } from './shutdown.js';
import { SpawnBurst } from './spawn-burst.js';
import { restoreStateFolder, watchStateFolder, type StateFolderWatch } from './state-folder-watch.js';
import { finishedMessage } from './session-end.js';
import { takeOnService } from './take-on.js';
import { StartOrder } from './start-order.js';
import { exitStatus } from './service-unit.js';
import { createSupervisor } from './supervisors.js';
import { ServiceControl } from './service-control.js';

/**
 * The services one `up` (or `run`) supervises: started in dependency order once what they depend on is ready
 * (`start-order.ts`), on-demand ones started by the proxy through the control channel and stopped when idle
 * (`on-demand.ts`), and all stopped in reverse dependency order at the end (`shutdown.ts`). Nothing it started
 * outlives it: processes that left their group are found by their mark, and if portbroker dies anyway, the
 * next session ends them as orphans.
 */

export type { ServiceView } from './service-views.js';

export type { EndReason, SessionOptions } from './session-options.js';

export class Session {
  /** Settles once every service started now is ready or has failed (and `whileStarting` is done). */
  readonly ready: Promise<void>;
  /** The exit status, once everything has stopped. */
  readonly done: Promise<number>;
  private markReady!: (work: Promise<unknown>) => void;
  private finish!: (code: number) => void;
  private readonly ctx: SessionContext;
  private readonly order: StartOrder;
  private readonly onDemand: OnDemand;
  private readonly actions: ServiceControl;
  private readonly burst = new SpawnBurst();
  private readonly live: LiveConfig;
  /** The services this session runs and starts now: the options' until a config edit is applied. */
  private selected: Pick<Selection, 'services' | 'startNow'>;
  private control: ControlServer | undefined;
  private folderWatch: StateFolderWatch | undefined;
  private stopping: Promise<void> | undefined;
  private exitCode = 0;
  private reason: EndReason | undefined;
  private readonly onProcessExit = () => killAll(this.ctx);

  constructor(private readonly options: SessionOptions) {
    this.ready = new Promise<unknown>((resolve) => (this.markReady = resolve)).then(() => undefined);
    this.done = new Promise((resolve) => (this.finish = resolve));
    const publisher = new RegistryPublisher(options.project.settings.home, options.project.config.root, {
      onWarning: options.onWarning,
      onError: (error) => this.ctx.notice('warn', `cannot record service states in the registry: ${error.message}`),
    });
    const { checkout, settings } = options.project;
    this.ctx = new SessionContext(options.project, publisher, options.onEvent, new LogFile(supervisorLogFile(settings.home, checkout.project, checkout.label), { shared: true }), options.invokedAs);
    this.order = new StartOrder(this.ctx, () => this.onFailure());
    this.onDemand = new OnDemand(this.ctx, this.order);
    this.actions = new ServiceControl(this.ctx, this.order, this.onDemand);
    this.selected = { services: options.services, startNow: options.startNow };
    this.live = new LiveConfig(this.ctx, this.order, this.actions, this.onDemand, {
      selection: () => this.selection(),
      select: ({ services, startNow }) => (this.selected = { services, startNow }),
      supervise: (name) => this.supervise(name),
      applied: async () => {
        await this.options.afterReload?.(this.selection());
        setImmediate(() => this.checkFinished());
      },
    });
  }

  /** The project and the services the session runs now. */
  private selection(): Selection {
    return { project: this.ctx.project, ...this.selected };
  }

  /** The project as the session runs it (a config edit applied replaces it). */
  get project(): Project {
    return this.ctx.project;
  }

  /** Every service of the session with its port, URL and status, in dependency order. */
  services(): ServiceView[] {
    return serviceViews(this.ctx, this.selected.services);
  }

  /** Why the session is ending, once it is: `requested` (stop(): Ctrl-C), `aborted` (--abort-on-fail), `finished`. */
  get endReason(): EndReason | undefined {
    return this.reason;
  }

  /** Stops every service (reverse dependency order, SIGTERM then SIGKILL after each grace period). */
  stop(): Promise<void> {
    return this.end('requested');
  }

  /** A second Ctrl-C: SIGKILL everything now; the session ends with status 130. */
  forceStop(): Promise<void> {
    this.exitCode = 130;
    killAll(this.ctx);
    return this.stop();
  }

  /** Pauses reading services' output while portbroker's own output is blocked. */
  setOutputPaused(paused: boolean): void {
    for (const sup of this.ctx.supervisors.values()) sup.setPaused(paused);
  }

  /** Claims the checkout, ends orphans, opens the control socket and begins starting services. */
  async open(): Promise<void> {
    const { project, services, startNow } = this.options;
    const { ctx } = this;
    const socket = controlSocket(ctx.home, process.pid);
    const control = startControlServer(socket, this.controlHandlers()).then(
      (server) => (this.control = server),
      (error: Error) => ctx.notice('warn', `on-demand starts will not work: cannot listen on ${socket}: ${error.message}`),
    );
    const supervised = services.filter((name) => serviceSpec(project, name).command);
    const { claim, free } = await openCheckout(ctx, supervised, control, this.options);
    process.on('exit', this.onProcessExit);
    this.folderWatch = watchStateFolder(ctx.home, () => this.restoreStateFolder());
    for (const name of services) {
      const waitsForRequest = serviceSpec(project, name).start === 'on-demand' && !startNow.includes(name);
      takeOnService(ctx, name, { owner: claim.elsewhere.get(name), waitsForRequest, supervise: () => this.supervise(name, free.get(name)) });
    }
    // Everything that can start now is spawned in this tick behind one gate, opened once all are spawned.
    this.burst.begin();
    const started = Promise.all(startNow.map((name) => this.order.ensureStarted(name)));
    const alongside = this.options.whileStarting?.() ?? Promise.resolve();
    // Ready means recorded too: the proxy routes from the registry, and `ls` reads it.
    this.markReady(Promise.all([started.then(() => ctx.publisher.flush()).then(() => this.checkFinished()), alongside]));
    const { reload } = this.options;
    if (reload) this.live.start(reload.file, reload.load, reload.loaded);
  }

  private supervise(name: string, portCheckedFreeAt?: number) {
    return createSupervisor(this.ctx, name, { ...this.options, burst: this.burst, portCheckedFreeAt, onEvent: (event) => this.onSupervisorEvent(event) });
  }

  /** What the control channel asks of this session (`portbroker start|stop|restart|down`, the proxy). */
  private controlHandlers(): ControlHandlers {
    return {
      start: (name) => this.onDemand.start(name),
      touch: (name) => this.onDemand.touch(name),
      act: (name, action) => this.actions.act(name, action),
      down: () => void this.stop(),
    };
  }

  /** The state folder was deleted: recreate it, put our services back on their ports, restart the proxy. */
  private restoreStateFolder(): Promise<void> {
    const { restoreProxy } = this.options;
    return restoreStateFolder(this.ctx, {
      onWarning: this.options.onWarning,
      restoreProxy: restoreProxy && (() => restoreProxy(this.selection())),
      reopenControl: async (socket) => {
        await this.control?.close();
        this.control = await startControlServer(socket, this.controlHandlers());
      },
    });
  }

  private end(reason: EndReason): Promise<void> {
    this.reason ??= reason;
    this.ctx.stopping = true;
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  private onSupervisorEvent(event: RunnerEvent): void {
    if (event.type !== 'status') return this.ctx.emit(event);
    this.ctx.setStatus(event.service, event.status, event.pid);
    if (event.status === 'running') this.onDemand.armIdleTimer(event.service);
    if (event.status === 'exited' || event.status === 'crashed') this.onServiceEnded(event.service);
  }

  /** A service ended by itself and will not be restarted. */
  private onServiceEnded(name: string): void {
    if (this.stopping) return;
    if (this.options.exitWith === name) {
      const exit = this.ctx.supervisors.get(name)?.lastExit;
      this.exitCode = this.ctx.statuses.get(name) === 'crashed' && !exit ? 1 : exitStatus(exit);
      void this.end('finished');
      return;
    }
    // Let a start under way (a dependent giving up) settle first.
    setImmediate(() => this.checkFinished());
  }

  private onFailure(): void {
    if (!this.options.abortOnFail || this.stopping) return;
    this.exitCode = 1;
    this.ctx.notice('error', 'stopping everything because a service failed to start (--abort-on-fail)');
    void this.end('aborted');
  }

  /** With nothing left running, nothing to restart and nothing to start on demand, the session is over. */
  private checkFinished(): void {
    const { ctx } = this;
    if (this.stopping || this.order.busy || this.live.busy || ctx.held.size > 0) return;
    if ([...ctx.supervisors.values()].some((s) => s.active)) return;
    if ([...ctx.supervisors.keys()].some((name) => serviceSpec(ctx.project, name).start === 'on-demand')) return;
    this.exitCode = [...ctx.statuses.values()].includes('crashed') ? 1 : 0;
    const why = finishedMessage(ctx);
    if (why) ctx.notice('info', why);
    void this.end('finished');
  }

  private async stopAll(): Promise<void> {
    this.folderWatch?.close();
    this.live.close();
    this.onDemand.clearTimers();
    await stopInOrder(this.ctx);
    try {
      await this.ctx.publisher.flush();
      await releaseCheckout(this.ctx.home, this.ctx.root, [...this.ctx.supervisors.keys()], { onWarning: this.options.onWarning });
    } catch (error) {
      this.ctx.notice('warn', `cannot record the stopped services in the registry: ${(error as Error).message}`);
    }
    await this.control?.close();
    for (const sup of this.ctx.supervisors.values()) sup.logFile.close();
    this.ctx.log.close();
    process.off('exit', this.onProcessExit);
    this.finish(this.exitCode);
  }
}

/** Starts a session: resolves once it is open (orphans ended, starts under way); `ready` and `done` follow. */
export async function startSession(options: SessionOptions): Promise<Session> {
  const session = new Session(options);
  try {
    await session.open();
  } catch (error) {
    // The registry could not be claimed (its lock, a full disk): nothing was spawned; close what was opened.
    await session.stop();
    throw error;
  }
  return session;
}
