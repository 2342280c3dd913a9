import type { ServiceSpec } from '../config/project-config.js';
import { kill, terminate } from '../platform/process-groups.js';
import { sleep } from '../platform/sleep.js';
import type { ServiceState } from '../ports/registry.js';
import type { RunInfo } from './registry-publisher.js';
import type { PreparedCommand } from './command-line.js';
import type { CrashPolicy } from './crash-policy.js';
import type { EventSink, ServiceStatus } from './events.js';
import type { LogFile } from './log-file.js';
import { ServiceOutput } from './service-output.js';
import { wrongPortMessage } from './port-watch.js';
import { cannotStart, daemonizedMessage, firstStartOutcome, notReadyMessage } from './start-outcome.js';
import { adoptedUnit, describeExit, leftovers, outputSettled, seconds, spawnedUnit, type Unit } from './service-unit.js';
import type { SpawnBurst } from './spawn-burst.js';
import { NOT_EXECUTABLE, NOT_FOUND, spawnService, type ExitStatus, type ServiceProcess } from './spawn.js';

/**
 * One service's life: check its port is free, spawn it, wait for readiness, publish its state, restart it by
 * its `restart` policy with backoff, give up on a crash loop, and stop it (SIGTERM to its group, SIGKILL after
 * the grace period). A command that daemonizes itself (exits 0 but leaves processes behind) is adopted: its
 * processes are watched and stopped with the rest, and the user is told.
 */

export interface SupervisorOptions {
  name: string;
  spec: ServiceSpec;
  port: number;
  env: NodeJS.ProcessEnv;
  command: PreparedCommand;
  logFile: LogFile;
  crashPolicy: CrashPolicy;
  emit: EventSink;
  /** Writes the state to the registry (coalesced by the session). */
  publish: (state: ServiceState, pid: number | undefined, run: RunInfo) => void;
  /** While the session spawns a burst of services: what to wait for before running the command. */
  gate?: SpawnBurst;
  /** When the session found the port free (ms since epoch): a first start right after that skips its own check. */
  portCheckedFreeAt?: number;
  /** Never ready in time: warn and keep it running (`portbroker run`) instead of stopping it as failed. */
  keepUnready?: boolean;
  /** Ports of its project's other services: listening there (a debugger port passed in) is not a wrong port. */
  siblingPorts?: ReadonlySet<number>;
}

export type StartOutcome = 'ready' | 'failed';

type RunResult = { kind: 'stopped' } | { kind: 'failed' } | { kind: 'exit'; status: ExitStatus; ready: boolean };

/** Lines of output shown under a failure message. */
const FAILURE_LINES = 12;

export class ServiceSupervisor {
  readonly name: string;
  private current: ServiceStatus = 'stopped';
  private unit: Unit | undefined;
  private proc: ServiceProcess | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private stopDeadline = 0;
  private abort = new AbortController();
  /** How its last process ended, for `portbroker run`'s exit status. */
  lastExit: ExitStatus | undefined;
  private waiters: Array<(outcome: StartOutcome) => void> = [];
  private readonly output: ServiceOutput;
  private portCheckedFreeAt: number;
  private spawns = 0;
  private startedAt: number | undefined;

  constructor(private readonly options: SupervisorOptions) {
    this.name = options.name;
    this.output = new ServiceOutput(options.name, options.spec, options.logFile, options.emit, FAILURE_LINES * 2);
    this.portCheckedFreeAt = options.portCheckedFreeAt ?? 0;
  }

  get logFile(): LogFile {
    return this.options.logFile;
  }

  /** The command as run (ports flags added) and the port it serves on. */
  get command(): PreparedCommand {
    return this.options.command;
  }

  get port(): number {
    return this.options.port;
  }

  get status(): ServiceStatus {
    return this.current;
  }

  /** The recorded pid while it runs. */
  get pid(): number | undefined {
    return this.unit?.pid;
  }

  /** Whether a start is under way or it runs (including a pending restart). */
  get active(): boolean {
    return this.loop !== undefined && !this.stopping;
  }

  /**
   * Starts the service unless it runs already. Resolves `ready` once it is ready, `failed` when it cannot start,
   * never becomes ready, or is given up on.
   */
  start(): Promise<StartOutcome> {
    // Asked again while stopping (a request arrives as an idle service stops): start anew once it is down.
    if (this.stopping && this.loop) return this.loop.then(() => this.start());
    if (this.current === 'running' && this.loop) return Promise.resolve('ready');
    const outcome = new Promise<StartOutcome>((resolve) => this.waiters.push(resolve));
    if (!this.loop) {
      this.stopping = false;
      this.abort = new AbortController();
      this.loop = this.supervise().finally(() => {
        this.loop = undefined;
        this.settle('failed');
      });
    }
    return outcome;
  }

  /** Forget earlier crashes: a deliberate start after a give-up gets the full number of retries again. */
  resetCrashes(): void {
    this.options.crashPolicy.reset();
  }

  /**
   * Stops it: SIGTERM to its processes now, SIGKILL to what is left at `deadline`. Resolves when none of its
   * processes is alive.
   */
  async stop(deadline: number): Promise<void> {
    if (!this.loop) return;
    this.stopping = true;
    this.stopDeadline = deadline;
    this.abort.abort();
    this.setStatus('stopping');
    if (this.unit) await this.terminateUnit(this.unit);
    await this.loop;
    this.setStatus('stopped');
    this.publish('stopped');
  }

  /** SIGKILL to everything of it, at once (a forced stop). */
  kill(): void {
    this.stopping = true;
    this.stopDeadline = 0;
    this.abort.abort();
    if (this.unit) kill(this.unit.groups, this.unit.pids);
  }

  /** The groups and pids that must die with portbroker, for the exit safety net. */
  processes(): { groups: number[]; pids: number[] } {
    return { groups: this.unit?.groups ?? [], pids: this.unit?.pids ?? [] };
  }

  /** Stops reading its output while portbroker's own output cannot keep up (the child then blocks on write). */
  setPaused(paused: boolean): void {
    this.output.setPaused(paused);
  }

  private async supervise(): Promise<void> {
    const { spec, crashPolicy, name } = this.options;
    for (;;) {
      const result = await this.runOnce();
      this.unit = undefined;
      this.proc = undefined;
      if (result.kind !== 'exit') return;
      const { status, ready } = result;
      this.lastExit = status;
      const how = describeExit(status);
      this.options.logFile.note(how);
      // The shell's "not found"/"not executable", unless the service ran first and chose that status itself.
      if (!ready && (status.code === NOT_FOUND || status.code === NOT_EXECUTABLE)) {
        this.fail(`${name}: ${status.code === NOT_FOUND ? 'command not found' : 'command not executable'} (${how}): ${this.options.command.command}`, [
          `check services.${name}.command, and that the tool is installed in ${spec.cwd}`,
        ]);
        return;
      }
      const crashed = status.code !== 0;
      const restart = spec.restart === 'always' || (spec.restart === 'on-failure' && crashed);
      if (!restart) {
        if (crashed) {
          this.fail(`${name} ${how}${ready ? '' : ' before it was ready'} (restart: "${spec.restart}", so it stays down)`);
        } else {
          this.setStatus('exited');
          this.publish('stopped');
          this.notice(ready ? 'info' : 'warn', `${name} ${how}${ready ? '' : ' before it was ready'}`);
          this.settle(ready ? 'ready' : 'failed');
        }
        return;
      }
      const verdict = crashPolicy.crashed();
      if (verdict.giveUp) {
        this.fail(
          `${name} ${how}; it ended ${verdict.crashes} times within ${seconds(crashPolicy.windowMs)}, so portbroker stopped restarting it`,
          [spec.start === 'on-demand' ? 'the next request through the proxy starts it again' : `fix the error shown above, then run \`portbroker up ${name}\` again`],
        );
        return;
      }
      this.setStatus('restarting');
      this.publish('crashed');
      this.notice('warn', `${name} ${how}; restarting in ${seconds(verdict.delayMs)} (${verdict.crashes} of ${crashPolicy.limit} within ${seconds(crashPolicy.windowMs)})`);
      await sleep(verdict.delayMs, this.abort.signal);
      if (this.stopping) return;
    }
  }

  /** One spawn, until the service's processes end, it fails, or it is stopped. */
  private async runOnce(): Promise<RunResult> {
    const started = await this.spawnUntilReady();
    if (started.kind !== 'ready') return started;
    return this.watchUntilExit(started.unit);
  }

  /**
   * Checks the port, spawns the command and waits until it is ready (adopting what a daemonizing command left).
   * `exit`: it ended before it was ready.
   */
  private async spawnUntilReady(): Promise<RunResult | { kind: 'ready'; unit: Unit }> {
    const { name, spec, port, command } = this.options;
    // The session checks the ports of everything it starts at once, in one batch, before the first spawn.
    const portChecked = Date.now() - this.portCheckedFreeAt < 1_000;
    this.portCheckedFreeAt = 0;
    const unfit = await cannotStart(name, spec.cwd, port, portChecked);
    if (unfit) {
      this.fail(unfit.message, unfit.fix);
      return { kind: 'failed' };
    }

    const matched = this.output.nextLogMatch();
    let proc: ServiceProcess;
    try {
      proc = await spawnService({ command: command.command, cwd: spec.cwd, env: this.options.env, gate: this.options.gate?.current() });
    } catch (error) {
      this.fail(`${name}: cannot start \`${command.command}\` in ${spec.cwd}: ${(error as Error).message}`);
      return { kind: 'failed' };
    }
    this.proc = proc;
    this.spawns++;
    this.startedAt = Date.now();
    this.output.attach(proc);
    let unit = spawnedUnit(proc);
    this.unit = unit;
    this.options.logFile.note(`started (pid ${proc.pid}): ${command.command}`);
    if (this.stopping) {
      await this.terminateUnit(unit);
      return { kind: 'stopped' };
    }
    this.setStatus('starting', unit.pid);
    this.publish('starting', unit.pid);
    const startedAt = Date.now();

    for (;;) {
      const first = await firstStartOutcome({
        unit,
        port,
        ready: spec.ready,
        logMatched: matched,
        siblingPorts: this.options.siblingPorts,
        signal: this.abort.signal,
      });
      if (this.stopping) return { kind: 'stopped' };
      if (first.kind === 'elsewhere') {
        const { message, fix } = wrongPortMessage(name, port, first.ports, command, this.options.keepUnready);
        if (this.options.keepUnready) {
          this.becameReady(unit, 'warn', [message, ...fix].join('\n'));
          return { kind: 'ready', unit };
        }
        await this.terminateUnit(unit, Date.now() + spec.shutdownGraceMs);
        this.fail(message, fix);
        return { kind: 'failed' };
      }
      if (first.kind === 'exit') {
        const next = await this.afterExit(unit, first.status, false);
        if (next.kind !== 'adopted') return next;
        unit = next.unit;
        continue;
      }
      if (first.r.ready) {
        this.becameReady(unit, 'info', `${name} is ready after ${seconds(Date.now() - startedAt)} (${first.r.how})`);
        return { kind: 'ready', unit };
      }
      if (this.options.keepUnready) {
        // `portbroker run`: the command is the point; one that serves no port (a test runner wanting the
        // variables) keeps running, and ends the run when it ends.
        this.becameReady(unit, 'warn', `${name} has not listened on port ${port} within ${seconds(spec.ready.timeoutMs)} (${first.r.reason}); it keeps running`);
        return { kind: 'ready', unit };
      }
      await this.terminateUnit(unit, Date.now() + spec.shutdownGraceMs);
      const { message, fix } = notReadyMessage(name, port, spec.ready, first.r.reason);
      this.fail(message, fix);
      return { kind: 'failed' };
    }
  }

  /** A ready service: waits until its processes end (adopting what a daemonizing command left) or it is stopped. */
  private async watchUntilExit(unit: Unit): Promise<RunResult> {
    for (;;) {
      const status = await unit.exited;
      if (this.stopping) return { kind: 'stopped' };
      const next = await this.afterExit(unit, status, true);
      if (next.kind !== 'adopted') return next;
      unit = next.unit;
    }
  }

  private becameReady(unit: Unit, level: 'info' | 'warn', message: string): void {
    this.setStatus('running', unit.pid);
    this.publish('running', unit.pid);
    this.notice(level, message);
    this.settle('ready');
  }

  /**
   * Its unit ended: a command that exited 0 but left processes behind daemonized itself, and those are adopted
   * (the new unit is returned to watch); otherwise what is left of it is ended and the exit is the result.
   */
  private async afterExit(unit: Unit, status: ExitStatus, ready: boolean): Promise<{ kind: 'adopted'; unit: Unit } | RunResult> {
    if (unit.kind === 'spawned' && this.proc) await outputSettled(this.proc);
    const left = leftovers(unit, this.name);
    if (unit.kind === 'spawned' && status.code === 0 && left.pids.length > 0) {
      const adopted = adoptedUnit(left);
      this.unit = adopted;
      this.publish(ready ? 'running' : 'starting', adopted.pid);
      const { message, fix } = daemonizedMessage(this.name, left.pids);
      this.notice('warn', message, fix);
      return { kind: 'adopted', unit: adopted };
    }
    if (left.pids.length > 0 || left.groups.length > 0) await terminate(left, this.options.spec.shutdownGraceMs);
    return { kind: 'exit', status, ready };
  }

  private async terminateUnit(unit: Unit, deadline = this.stopDeadline): Promise<void> {
    const graceMs = Math.max(0, deadline - Date.now());
    const how = await terminate({ groups: unit.groups, pids: unit.pids }, graceMs, unit.exited);
    if (how === 'killed' && deadline > 0) {
      this.notice('warn', `${this.name} did not stop within ${seconds(this.options.spec.shutdownGraceMs)} of SIGTERM; killed it (SIGKILL)`);
    }
    this.options.logFile.note(how === 'killed' ? 'killed (SIGKILL)' : 'stopped');
  }

  private fail(message: string, fix: string[] = []): void {
    this.setStatus('crashed');
    this.publish('crashed');
    this.options.logFile.note(message);
    const output = this.output.last(FAILURE_LINES);
    this.options.emit({ type: 'notice', level: 'error', service: this.name, message: [message, ...fix].join('\n'), output: output.length ? output : undefined });
    this.settle('failed');
  }

  private notice(level: 'info' | 'warn' | 'error', message: string, fix: string[] = []): void {
    this.options.emit({ type: 'notice', level, service: this.name, message: [message, ...fix].join('\n') });
  }

  /** When its current process started, and how many times it was started again since the session began. */
  runInfo(): RunInfo {
    return { startedAt: this.unit ? this.startedAt : undefined, restarts: Math.max(0, this.spawns - 1) };
  }

  private publish(state: ServiceState, pid?: number): void {
    this.options.publish(state, pid, this.runInfo());
  }

  private setStatus(status: ServiceStatus, pid?: number): void {
    if (this.current === status && pid === undefined) return;
    this.current = status;
    this.options.emit({ type: 'status', service: this.name, status, pid });
  }

  private settle(outcome: StartOutcome): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve(outcome);
  }
}
