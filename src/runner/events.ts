/**
 * What a running session reports. The CLI renders these (prefixed lines, a spinner, the table); a program
 * using `up()` may log them however it likes. Messages are complete sentences: they say what happened,
 * where, and what to do about it.
 */

/** A service as the session sees it. */
export type ServiceStatus =
  /** Reserved port only: no command. */
  | 'reserved'
  /** On-demand: routed, started by the first request. */
  | 'on-demand'
  /** Waiting for the services it depends on. */
  | 'waiting'
  | 'starting'
  | 'running'
  /** Crashed; restarting after a delay. */
  | 'restarting'
  | 'stopping'
  | 'stopped'
  /** Ended by itself with status 0 and not restarted. */
  | 'exited'
  /** Could not start, never became ready, or crashed too often: given up on (`ls` says the same). */
  | 'crashed'
  /** Run by another portbroker process of this checkout (another terminal's `up` or `run`). */
  | 'elsewhere';

/** Whether a service of the session runs, or will without being asked (it keeps its portbroker running). */
export function runsInSession(status: ServiceStatus): boolean {
  return status === 'running' || status === 'starting' || status === 'waiting' || status === 'restarting' || status === 'on-demand';
}

export type RunnerEvent =
  | { type: 'log'; service: string; line: string; stream: 'stdout' | 'stderr'; /** When it was printed (ISO), if not now: `logs`. */ time?: string }
  | { type: 'status'; service: string; status: ServiceStatus; pid?: number; /** `waiting`: the services it waits for. */ waitingFor?: string[] }
  | {
      type: 'notice';
      level: 'info' | 'warn' | 'error';
      service?: string;
      message: string;
      /** The service's last lines of output, for failures. */
      output?: string[];
    };

export type EventSink = (event: RunnerEvent) => void;
