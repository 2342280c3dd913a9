/**
 * The control channel of a supervising `portbroker up`/`run` process: HTTP over a Unix socket in the state
 * folder (`controlSocket`, mode 0600, recorded in the registry as `CheckoutRecord.control`). The proxy, the
 * CLI's control commands and the programmatic API all speak it; nothing else reaches a supervisor.
 *
 * Every path starts with the protocol version, so a client and a supervisor built from different versions
 * fail with a clear answer (404 on an unknown version) instead of misreading each other:
 *
 *   POST /v1/services/<name>/<action>  → 200/202 with a JSON body; 404 unknown service
 *   touch                               → 204: traffic seen, which resets the service's `idleStopMs` timer
 */

export const CONTROL_VERSION = 1;

/** What a client can ask of one service. */
export type ServiceAction = 'start' | 'touch';

export function servicePath(service: string, action: ServiceAction): string {
  return `/v${CONTROL_VERSION}/services/${encodeURIComponent(service)}/${action}`;
}

/** The service and action a request path names, or undefined for any other path. */
export function parseServicePath(url: string): { service: string; action: string } | undefined {
  const match = new RegExp(`^/v${CONTROL_VERSION}/services/([^/?]+)/([a-z]+)$`).exec(url);
  if (!match) return undefined;
  try {
    return { service: decodeURIComponent(match[1]!), action: match[2]! };
  } catch {
    return undefined;
  }
}
