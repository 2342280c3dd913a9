import os from 'node:os';
import { liveState } from '../ports/live-state.js';
import { readRegistry, type RegistryOptions } from '../ports/registry.js';
import { pinnedPortBusy } from '../ports/reservations.js';
import { controlSocket, serviceLogFile } from '../platform/paths.js';
import { acceptsConnections } from '../platform/loopback.js';
import { kill, taggedProcesses, terminate } from '../platform/process-groups.js';
import { sleep } from '../platform/sleep.js';
import { serviceSpec, serviceUrl, servicePort, type Project } from '../project/open.js';
import { prepareCommand } from './command-line.js';
import { describeAdded } from './framework-flags.js';
import { requestStart, touchService } from './control-client.js';
import { startControlServer, type ControlServer } from './control-server.js';
import { CrashPolicy, DEFAULT_CRASH_POLICY, type CrashPolicyOptions } from './crash-policy.js';
import type { EventSink, RunnerEvent, ServiceStatus } from './events.js';
import { LogFile } from './log-file.js';
import { claimCheckout, endOrphans, releaseCheckout, supervisorAlive } from './ownership.js';
import { processEnvironment, SUPERVISOR_VARIABLE } from './process-env.js';
import { RegistryPublisher } from './registry-publisher.js';
import { seconds, ServiceSupervisor } from './supervisor.js';

/**
 * The services one `up` (or `run`) supervises: started in dependency order once what they depend on is ready,
 * on-demand ones started by the proxy through the control socket and stopped when idle, and all stopped in
 * reverse dependency order at the end. Nothing it started outlives it: processes that left their group are
 * found by their mark, and if portbroker dies anyway, the next session ends them as orphans.
 */

export interface SessionOptions extends RegistryOptions {
  project: Project;
  /** Every service this session is responsible for, in dependency order. */
  services: string[];
  /** Of those, the ones to start now (with what they depend on); on-demand ones wait for a request. */
  startNow: string[];
  /** Stop everything when a service fails to start (exit status 1). */
  abortOnFail?: boolean;
  /** `portbroker run`: the session ends when this service's command ends, with its exit status. */
  exitWith?: string;
  /** Children may print colour (portbroker shows it). */
  forceColor?: boolean;
  crashPolicy?: CrashPolicyOptions;
  onEvent?: EventSink;
  /** The environment services inherit (default: this process's). */
  env?: NodeJS.ProcessEnv;
}

export interface ServiceView {
  name: string;
  port: number;
  url: string;
  status: ServiceStatus;
  pid?: number;
  /** `elsewhere`: the portbroker process that runs it, and what the registry says of it. */
  owner?: number;
  ownerState?: 'running' | 'starting' | 'on-demand' | 'stopped' | 'crashed';
}

export class Session {
  readonly project: Project;
  /** Settles once every service started now is ready or has failed. */
  ready!: Promise<void>;
  /** The exit status, once everything has stopped. */
  readonly done: Promise<number>;
  private finish!: (code: number) => void;
  private readonly supervisors = new Map<string, ServiceSupervisor>();
  private readonly statuses = new Map<string, ServiceStatus>();
  private elsewhere = new Map<string, number>();
  private readonly starts = new Map<string, Promise<boolean>>();
  private readonly announced = new Set<string>();
  private readonly idleTimers = new Map<string, NodeJS.Timeout>();
  private readonly logFiles: LogFile[] = [];
  private readonly publisher: RegistryPublisher;
  private control: ControlServer | undefined;
  private stopping: Promise<void> | undefined;
  /** Open while the first burst of services is being spawned (see `SpawnOptions.gate`). */
  private burst: Promise<void> | undefined;
  private exitCode = 0;
  private reason: 'requested' | 'aborted' | 'finished' | undefined;
  private readonly onProcessExit = () => this.killAll();

  constructor(private readonly options: SessionOptions) {
    this.project = options.project;
    this.done = new Promise((resolve) => (this.finish = resolve));
    this.publisher = new RegistryPublisher(this.home, this.root, {
      onWarning: options.onWarning,
      onError: (error) => this.notice('warn', `cannot record service states in the registry: ${error.message}`),
    });
  }

  private get home(): string {
    return this.project.settings.home;
  }

  private get root(): string {
    return this.project.config.root;
  }

  /** Every service of the session with its port, URL and status, in dependency order. */
  services(): ServiceView[] {
    const records = this.elsewhere.size > 0 ? readRegistry(this.home).checkouts[this.root]?.services : undefined;
    return this.options.services.map((name) => {
      const view: ServiceView = {
        name,
        port: servicePort(this.project, name),
        url: serviceUrl(this.project, name),
        status: this.statuses.get(name) ?? 'stopped',
        pid: this.supervisors.get(name)?.pid,
      };
      const owner = this.elsewhere.get(name);
      const rec = records?.[name];
      if (owner !== undefined && rec) {
        const state = liveState(rec);
        view.owner = owner;
        view.pid = rec.pid;
        view.ownerState = state === 'running' || state === 'starting' || state === 'crashed' ? state : rec.onDemand ? 'on-demand' : 'stopped';
      }
      return view;
    });
  }

  /**
   * Why the session is ending, once it is: `requested` (stop() from outside: Ctrl-C), `aborted`
   * (--abort-on-fail), `finished` (nothing left to run, or `run`'s command ended).
   */
  get endReason(): 'requested' | 'aborted' | 'finished' | undefined {
    return this.reason;
  }

  /** Stops every service (reverse dependency order, SIGTERM then SIGKILL after each grace period). */
  stop(): Promise<void> {
    return this.end('requested');
  }

  private end(reason: 'requested' | 'aborted' | 'finished'): Promise<void> {
    this.reason ??= reason;
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  /** A second Ctrl-C: SIGKILL everything now; the session ends with status 130. */
  forceStop(): Promise<void> {
    this.exitCode = 130;
    this.killAll();
    return this.stop();
  }

  /** Pauses reading services' output while portbroker's own output is blocked. */
  setOutputPaused(paused: boolean): void {
    for (const sup of this.supervisors.values()) sup.setPaused(paused);
  }

  /** Claims the checkout, ends orphans, opens the control socket and begins starting services. */
  async open(): Promise<void> {
    const { project, services } = this.options;
    const control = startControlServer(controlSocket(this.home, process.pid), {
      start: (name) => this.requestStart(name),
      touch: (name) => this.touch(name),
    }).then(
      (server) => (this.control = server),
      (error: Error) => this.notice('warn', `on-demand starts will not work: cannot listen on ${controlSocket(this.home, process.pid)}: ${error.message}`),
    );
    const supervised = services.filter((name) => serviceSpec(project, name).command);
    // The ports are checked while the checkout is claimed (see `checkPorts`).
    const portsChecked = this.checkPorts(supervised);
    // Settled both ways before going on: a failed claim must not leave the control socket opening behind it.
    const [claimed] = await Promise.allSettled([
      claimCheckout({
        home: this.home,
        root: this.root,
        services: supervised,
        takeControl: supervised.some((name) => serviceSpec(project, name).start === 'on-demand'),
        onWarning: this.options.onWarning,
      }),
      control,
      portsChecked,
    ]);
    if (claimed.status === 'rejected') throw claimed.reason;
    const claim = claimed.value;
    let free = await portsChecked;
    const ended = await endOrphans(claim, project.checkout.project);
    if (ended.pids.length > 0) {
      this.notice(
        'warn',
        `ended ${ended.pids.length} process${ended.pids.length === 1 ? '' : 'es'} of ${ended.services.join(', ') || 'this project'} left running by a portbroker that was killed (pid ${[...claim.deadOwners].join(', ')})`,
      );
      // The orphans held ports: what they held is free now.
      free = await this.checkPorts(supervised);
    }
    // A pinned port cannot move: when something else holds one, nothing is started (SPEC, "The allocator").
    const pinnedBusy = supervised.find((name) => serviceSpec(project, name).port !== undefined && !free.has(name) && !claim.elsewhere.has(name));
    if (pinnedBusy) throw pinnedPortBusy(project.config, pinnedBusy, servicePort(project, pinnedBusy));
    process.on('exit', this.onProcessExit);

    for (const name of services) {
      const spec = serviceSpec(project, name);
      const owner = claim.elsewhere.get(name);
      if (owner !== undefined) {
        this.elsewhere.set(name, owner);
        this.setStatus(name, 'elsewhere');
        this.notice('info', `${name} already runs under another portbroker (pid ${owner}); using that one`);
        continue;
      }
      if (!spec.command) {
        this.setStatus(name, 'reserved');
        continue;
      }
      const port = servicePort(project, name);
      const logFile = new LogFile(serviceLogFile(this.home, project.checkout.project, project.checkout.label, name));
      this.logFiles.push(logFile);
      const sup = new ServiceSupervisor({
        name,
        spec,
        port,
        env: processEnvironment(project, name, { supervisorPid: process.pid, forceColor: this.options.forceColor, inherit: this.options.env }),
        command: prepareCommand(spec.command, port, spec.cwd),
        logFile,
        crashPolicy: new CrashPolicy(this.options.crashPolicy ?? DEFAULT_CRASH_POLICY),
        emit: (event) => this.onSupervisorEvent(event),
        publish: (state, pid) => this.publisher.set(name, state, pid),
        gate: () => this.burst,
        keepUnready: this.options.exitWith === name,
      });
      sup.portCheckedFreeAt = free.get(name) ?? 0;
      this.supervisors.set(name, sup);
      this.setStatus(name, spec.start === 'on-demand' && !this.options.startNow.includes(name) ? 'on-demand' : 'stopped');
    }

    // Everything that can start now is spawned in this tick behind one gate, opened once all are spawned.
    this.burst = new Promise<void>((open) => setImmediate(() => {
      this.burst = undefined;
      open();
    }));
    // Ready means recorded too: the proxy routes from the registry, and `ls` reads it.
    this.ready = Promise.all(this.options.startNow.map((name) => this.ensureStarted(name)))
      .then(() => this.publisher.flush())
      .then(() => this.checkFinished());
  }

  /**
   * Checks the ports of every service about to start, all at once, so that the spawns that follow come in one
   * burst: checked one by one, each would wait for CPU behind the services already booting. Resolves with
   * when each free port was found free (a service whose port is busy is absent: its own start names the holder).
   */
  private async checkPorts(names: string[]): Promise<Map<string, number>> {
    const busy = await Promise.all(names.map((name) => acceptsConnections(servicePort(this.project, name))));
    const now = Date.now();
    return new Map(names.filter((_name, i) => !busy[i]).map((name) => [name, now]));
  }

  /** Starts a service once what it depends on is ready; resolves whether it became ready. Joins a start under way. */
  private ensureStarted(name: string): Promise<boolean> {
    let start = this.starts.get(name);
    if (!start) {
      start = this.startWithDependencies(name).finally(() => this.starts.delete(name));
      this.starts.set(name, start);
    }
    return start;
  }

  private async startWithDependencies(name: string): Promise<boolean> {
    if (this.stopping) return false;
    if (this.elsewhere.has(name)) return this.waitElsewhere(name);
    const sup = this.supervisors.get(name);
    // A reserved port with no command (a database run by hand): nothing to wait for.
    if (!sup) return true;
    if (sup.status === 'running' && sup.active) return true;
    const spec = serviceSpec(this.project, name);
    if (spec.dependsOn.length > 0) {
      const pending = spec.dependsOn.filter((dep) => this.statuses.get(dep) !== 'running' && this.statuses.get(dep) !== 'elsewhere');
      if (pending.length > 0) {
        this.statuses.set(name, 'waiting');
        this.emit({ type: 'status', service: name, status: 'waiting', waitingFor: pending });
      }
      const results = await Promise.all(spec.dependsOn.map((dep) => this.ensureStarted(dep)));
      const missing = spec.dependsOn.filter((_dep, i) => !results[i]);
      if (this.stopping) return false;
      if (missing.length > 0) {
        this.setStatus(name, 'failed');
        this.notice('error', `${name} was not started: it depends on ${missing.join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} not running`, name);
        this.onFailure();
        return false;
      }
    }
    this.announce(name, sup);
    const outcome = await sup.start();
    if (outcome === 'failed' && !this.stopping) this.onFailure();
    return outcome === 'ready';
  }

  /** Says once what portbroker changed in a service's command. */
  private announce(name: string, sup: ServiceSupervisor): void {
    if (this.announced.has(name)) return;
    this.announced.add(name);
    const { conflict } = sup.command;
    const added = describeAdded(sup.command);
    if (added) this.notice('info', `${name}: ${added}`, name);
    if (conflict) {
      this.notice(
        'warn',
        `${name}: its command sets port ${conflict}, but portbroker reserved ${sup.port} for it; the proxy and the *_URL variables point at ${sup.port}\nwrite $PORT (or {port}) instead of ${conflict} in its command`,
        name,
      );
    }
  }

  /** Another portbroker runs it: wait until that one reports it running (asking it to start an on-demand one). */
  private async waitElsewhere(name: string): Promise<boolean> {
    const owner = this.elsewhere.get(name)!;
    const deadline = Date.now() + serviceSpec(this.project, name).ready.timeoutMs;
    let asked = false;
    while (!this.stopping && Date.now() < deadline) {
      const rec = readRegistry(this.home).checkouts[this.root]?.services[name];
      if (rec?.state === 'running') return true;
      if (!supervisorAlive(this.home, owner)) break;
      if (rec?.onDemand && rec.state !== 'starting' && !asked) {
        asked = true;
        await requestStart(controlSocket(this.home, owner), name).catch(() => undefined);
      }
      await sleep(100);
    }
    return false;
  }

  /**
   * The proxy asks for an on-demand service (or any service of ours that is down). The answer waits until the
   * registry says `starting`: the proxy then waits for `running` and does not mistake an earlier `crashed` for
   * the outcome of this start.
   */
  private async requestStart(name: string): Promise<boolean> {
    const sup = this.supervisors.get(name);
    if (sup) {
      if (this.stopping) return true;
      if (!sup.active) {
        sup.resetCrashes();
        this.publisher.set(name, 'starting');
      }
      void this.ensureStarted(name);
      this.touch(name);
      await this.publisher.flush();
      return true;
    }
    // The checkout's control socket is ours, but another portbroker of this checkout runs that service.
    const owner = this.elsewhere.get(name) ?? readRegistry(this.home).checkouts[this.root]?.services[name]?.owner;
    if (owner !== undefined && owner !== process.pid && supervisorAlive(this.home, owner)) {
      requestStart(controlSocket(this.home, owner), name).catch(() => undefined);
      return true;
    }
    return false;
  }

  private touch(name: string): boolean {
    if (this.supervisors.has(name)) {
      this.armIdleTimer(name);
      return true;
    }
    const owner = this.elsewhere.get(name);
    if (owner !== undefined) touchService(controlSocket(this.home, owner), name);
    return owner !== undefined;
  }

  /** An on-demand service with `idleStopMs` stops after that long without a request. */
  private armIdleTimer(name: string): void {
    const spec = serviceSpec(this.project, name);
    if (spec.start !== 'on-demand' || spec.idleStopMs === undefined || this.stopping) return;
    clearTimeout(this.idleTimers.get(name));
    const timer = setTimeout(() => {
      this.idleTimers.delete(name);
      const sup = this.supervisors.get(name);
      if (!sup?.active || this.stopping) return;
      this.notice('info', `${name} stopped after ${seconds(spec.idleStopMs!)} without requests; the next request starts it again`, name);
      void sup.stop(Date.now() + spec.shutdownGraceMs).then(() => {
        if (!this.stopping) this.setStatus(name, 'on-demand');
      });
    }, spec.idleStopMs);
    timer.unref();
    this.idleTimers.set(name, timer);
  }

  private onSupervisorEvent(event: RunnerEvent): void {
    if (event.type === 'status') {
      this.setStatus(event.service, event.status, event.pid);
      if (event.status === 'running') this.armIdleTimer(event.service);
      if (event.status === 'exited' || event.status === 'failed') this.onServiceEnded(event.service);
      return;
    }
    this.emit(event);
  }

  /** A service ended by itself and will not be restarted. */
  private onServiceEnded(name: string): void {
    if (this.stopping) return;
    if (this.options.exitWith === name) {
      const exit = this.supervisors.get(name)?.lastExit;
      const status = this.statuses.get(name) === 'failed' && !exit ? 1 : exitStatus(exit);
      this.exitCode = status;
      void this.end('finished');
      return;
    }
    // Let a start under way (a dependent giving up) settle first.
    setImmediate(() => this.checkFinished());
  }

  private onFailure(): void {
    if (!this.options.abortOnFail || this.stopping) return;
    this.exitCode = 1;
    this.notice('error', 'stopping everything because a service failed to start (--abort-on-fail)');
    void this.end('aborted');
  }

  /** With nothing left running, nothing to restart and nothing to start on demand, the session is over. */
  private checkFinished(): void {
    if (this.stopping || this.starts.size > 0) return;
    if ([...this.supervisors.values()].some((s) => s.active)) return;
    if (this.options.services.some((name) => serviceSpec(this.project, name).start === 'on-demand' && this.supervisors.has(name))) return;
    const failed = [...this.statuses.values()].includes('failed');
    this.exitCode = failed ? 1 : 0;
    if (this.supervisors.size > 0) this.notice('info', 'no service is running any more');
    else if (this.elsewhere.size > 0) {
      const owners = [...new Set(this.elsewhere.values())].join(', ');
      this.notice('info', `nothing to start here: ${[...this.elsewhere.keys()].join(', ')} already run${this.elsewhere.size === 1 ? 's' : ''} under portbroker pid ${owners}\nstop ${this.elsewhere.size === 1 ? 'it' : 'them'} there (Ctrl-C in its terminal, or kill -INT ${owners}) to start ${this.elsewhere.size === 1 ? 'it' : 'them'} here`);
    }
    void this.end('finished');
  }

  private async stopAll(): Promise<void> {
    for (const timer of this.idleTimers.values()) clearTimeout(timer);
    this.idleTimers.clear();
    const t0 = Date.now();
    const active = [...this.supervisors.values()].filter((s) => s.active);
    if (active.length > 0) this.notice('info', `stopping ${active.map((s) => s.name).reverse().join(', ')}`);
    const stopped = new Map<string, Promise<void>>();
    const stopOne = (name: string): Promise<void> => {
      let done = stopped.get(name);
      if (!done) {
        done = (async () => {
          // Dependents first: web goes before the api it talks to.
          const dependents = [...this.supervisors.keys()].filter((d) => serviceSpec(this.project, d).dependsOn.includes(name));
          await Promise.all(dependents.map(stopOne));
          await this.supervisors.get(name)!.stop(t0 + serviceSpec(this.project, name).shutdownGraceMs);
        })();
        stopped.set(name, done);
      }
      return done;
    };
    await Promise.all([...this.supervisors.keys()].map(stopOne));
    await this.endLeftovers();
    for (const name of this.supervisors.keys()) if (this.statuses.get(name) !== 'failed') this.setStatus(name, 'stopped');
    try {
      await this.publisher.flush();
      await releaseCheckout(this.home, this.root, [...this.supervisors.keys()], { onWarning: this.options.onWarning });
    } catch (error) {
      this.notice('warn', `cannot record the stopped services in the registry: ${(error as Error).message}`);
    }
    await this.control?.close();
    for (const file of this.logFiles) file.close();
    process.off('exit', this.onProcessExit);
    this.finish(this.exitCode);
  }

  /** Processes with our mark that outlived their group (they left it): ended too, and named. */
  private async endLeftovers(): Promise<void> {
    const mark = String(process.pid);
    const left = taggedProcesses(SUPERVISOR_VARIABLE, (v) => v === mark, ['PORTBROKER_SERVICE']);
    if (left.length === 0) return;
    const services = [...new Set(left.map((p) => p.env.PORTBROKER_SERVICE ?? '?'))].join(', ');
    this.notice('warn', `${services} left ${left.length === 1 ? `pid ${left[0]!.pid}` : `pids ${left.map((p) => p.pid).join(', ')}`} running outside its process group; ending it too`);
    await terminate({ pids: left.map((p) => p.pid), groups: left.map((p) => p.pgid) }, 1_000);
  }

  /** SIGKILL to everything we started, synchronously: a forced stop, or portbroker exiting unexpectedly. */
  private killAll(): void {
    for (const sup of this.supervisors.values()) {
      const { groups, pids } = sup.processes();
      sup.kill();
      kill(groups, pids);
    }
    const mark = String(process.pid);
    const left = taggedProcesses(SUPERVISOR_VARIABLE, (v) => v === mark);
    kill(
      left.map((p) => p.pgid),
      left.map((p) => p.pid),
    );
  }

  private setStatus(name: string, status: ServiceStatus, pid?: number): void {
    this.statuses.set(name, status);
    this.emit({ type: 'status', service: name, status, pid });
  }

  private notice(level: 'info' | 'warn' | 'error', message: string, service?: string): void {
    this.emit({ type: 'notice', level, message, service });
  }

  private emit(event: RunnerEvent): void {
    this.options.onEvent?.(event);
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

/** A process's status as a shell reports it: its code, or 128 + the signal that killed it. */
function exitStatus(exit: { code: number | null; signal: NodeJS.Signals | null } | undefined): number {
  if (!exit) return 1;
  if (exit.code !== null) return exit.code;
  return exit.signal ? 128 + (os.constants.signals[exit.signal] ?? 0) : 1;
}
