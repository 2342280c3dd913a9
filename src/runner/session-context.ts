import type { Project } from '../project/open.js';
import type { EventSink, RunnerEvent, ServiceStatus } from './events.js';
import type { LogFile } from './log-file.js';
import type { RegistryPublisher } from './registry-publisher.js';
import type { ServiceSupervisor } from './supervisor.js';

/**
 * What the parts of a session (start order, on-demand, shutdown, live config) share: the project, each service's
 * supervisor or the other portbroker that runs it, the statuses the session reports, and where events go. Created
 * by the session with everything it is given; the parts read and report through it, and only a config edit
 * (`live-config.ts`) replaces the project and the set of services.
 */
export class SessionContext {
  /** Services this session runs (those with a command), filled when the session opens. */
  readonly supervisors = new Map<string, ServiceSupervisor>();
  /** Services another live portbroker of this checkout runs: service → its pid. */
  readonly elsewhere = new Map<string, number>();
  readonly statuses = new Map<string, ServiceStatus>();
  /** Set once the session is ending: nothing new starts. */
  stopping = false;
  /** While a config edit is applied (`live-config.ts`): on-demand starts wait for it. */
  reloading: Promise<void> | undefined;

  constructor(
    /** Replaced when a config edit is applied (`live-config.ts`). */
    public project: Project,
    readonly publisher: RegistryPublisher,
    private readonly sink: EventSink | undefined,
    /** Where the session's own notices (not one service's) are kept: `portbroker logs portbroker`. */
    readonly log: LogFile,
    /** How the user ran portbroker (`npx portbroker`), recorded for the proxy's pages; undefined: `portbroker`. */
    readonly invokedAs?: string,
  ) {}

  get home(): string {
    return this.project.settings.home;
  }

  get root(): string {
    return this.project.config.root;
  }

  /** Services stopped on request (`portbroker stop`): they stay down, and do not end the session. */
  get held(): ReadonlySet<string> {
    return this.publisher.held;
  }

  /** Stopped on request: it stays down (a request does not start it), and the registry says so. */
  hold(name: string): void {
    this.publisher.hold(name, true);
  }

  unhold(name: string): void {
    this.publisher.hold(name, false);
  }

  setStatus(name: string, status: ServiceStatus, pid?: number): void {
    this.statuses.set(name, status);
    this.emit({ type: 'status', service: name, status, pid });
  }

  notice(level: 'info' | 'warn' | 'error', message: string, service?: string): void {
    this.emit({ type: 'notice', level, message, service });
    if (service !== undefined) return;
    const prefix = level === 'info' ? '' : `${level === 'warn' ? 'warning' : 'error'}: `;
    message.split('\n').forEach((line, i) => this.log.line(i === 0 ? prefix + line : `  ${line}`));
  }

  emit(event: RunnerEvent): void {
    this.sink?.(event);
  }
}
