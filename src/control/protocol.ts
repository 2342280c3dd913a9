import type { ServiceState } from '../ports/registry.js';

/**
 * The control channel of a supervising `portbroker up`/`run` process: HTTP over a Unix socket in the state
 * folder (`controlSocket`, mode 0600, recorded in the registry as `ServiceRecord.owner`/`CheckoutRecord.control`).
 * The proxy, the CLI's control commands, the dashboard and the programmatic API all speak it; nothing else
 * reaches a supervisor.
 *
 * Every path starts with the protocol version, so a client and a supervisor built from different versions
 * fail with a clear answer (404 on an unknown version) instead of misreading each other:
 *
 *   POST /v1/services/<name>/start     → 202 once the start is under way (the proxy's on-demand start)
 *   POST /v1/services/<name>/start?wait → 200 `ActionResult` once it is ready or has failed
 *   POST /v1/services/<name>/restart   → 200 `ActionResult` (stopped, then started; ready or failed)
 *   POST /v1/services/<name>/stop      → 200 `ActionResult`; it stays reserved and routed, and stays down
 *   POST /v1/services/<name>/touch     → 204: traffic seen, which resets the service's `idleStopMs` timer
 *   POST /v1/down                      → 202: the supervisor stops its services and exits
 *
 * 404 `{error}`: a service this supervisor does not run; 409 `{error}`: refused (stopped on purpose).
 */

export const CONTROL_VERSION = 1;

export type ServiceAction = 'start' | 'touch' | 'restart' | 'stop';

/** The actions that answer with an `ActionResult`. */
export type ControlAction = 'start' | 'restart' | 'stop';

/** What `restart`, `stop` and `start` did to one service: the object their `--json` prints. */
export interface ActionResult {
  service: string;
  action: ControlAction;
  /** The service's state after the action: `running`, `stopped`, or `crashed` when it did not come up. */
  state: ServiceState;
  pid: number | null;
  /** The pid it had before (`restart`: proof that it is a new process). */
  previousPid: number | null;
  port: number;
  /** The portbroker process supervising it. */
  supervisor: number;
  /** One sentence for people. */
  message: string;
}

export function servicePath(service: string, action: ServiceAction, wait = false): string {
  return `/v${CONTROL_VERSION}/services/${encodeURIComponent(service)}/${action}${wait ? '?wait' : ''}`;
}

export const DOWN_PATH = `/v${CONTROL_VERSION}/down`;

/** The service and action a request path names, or undefined for any other path. */
export function parseServicePath(url: string): { service: string; action: string; wait: boolean } | undefined {
  const [pathname, query = ''] = url.split('?', 2) as [string, string?];
  const match = new RegExp(`^/v${CONTROL_VERSION}/services/([^/]+)/([a-z]+)$`).exec(pathname);
  if (!match) return undefined;
  try {
    return { service: decodeURIComponent(match[1]!), action: match[2]!, wait: new URLSearchParams(query).has('wait') };
  } catch {
    return undefined;
  }
}
