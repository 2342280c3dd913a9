import http from 'node:http';
import { DOWN_PATH, servicePath, type ActionResult, type ControlAction } from './protocol.js';

/** The client side of the control channel (see `protocol.ts`). */

/**
 * Asks a supervisor to start a service (no-op when it runs or is starting). Resolves once the start is under
 * way: the supervisor records `starting` before it answers, so the caller can then wait for `running`.
 */
export async function requestStart(socketPath: string, service: string, timeoutMs = 5_000): Promise<void> {
  const { status, body } = await post(socketPath, servicePath(service, 'start'), timeoutMs);
  if (status !== 202 && status !== 200) throw new Error(errorOf(body) ?? `the supervisor refused to start ${service} (HTTP ${status})`);
}

/** Fire and forget: activity reports must never slow or fail a proxied request. */
export function touchService(socketPath: string, service: string): void {
  post(socketPath, servicePath(service, 'touch'), 2_000).catch(() => undefined);
}

/** Why an action did not happen: the supervisor's own sentence. */
export class ControlError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/**
 * Restarts, stops or starts a service and answers once that is done (a start: ready or failed). `timeoutMs`
 * bounds the wait; a service's own readiness timeout comes first.
 */
export async function controlService(socketPath: string, service: string, action: ControlAction, timeoutMs: number): Promise<ActionResult> {
  const { status, body } = await post(socketPath, servicePath(service, action, action === 'start'), timeoutMs);
  if (status !== 200) throw new ControlError(errorOf(body) ?? `the supervisor answered HTTP ${status}`, status);
  return JSON.parse(body) as ActionResult;
}

/** Asks a supervisor to stop its services and exit; resolves once it has accepted. */
export async function requestDown(socketPath: string, timeoutMs = 5_000): Promise<void> {
  const { status, body } = await post(socketPath, DOWN_PATH, timeoutMs);
  if (status !== 202) throw new ControlError(errorOf(body) ?? `the supervisor answered HTTP ${status}`, status);
}

function errorOf(body: string): string | undefined {
  try {
    return (JSON.parse(body) as { error?: string }).error;
  } catch {
    return undefined;
  }
}

function post(socketPath: string, path: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path, method: 'POST', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${socketPath} within ${Math.round(timeoutMs / 1000)} s`)));
    req.on('error', reject);
    req.end();
  });
}
