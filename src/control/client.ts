import http from 'node:http';
import { servicePath, type ServiceAction } from './protocol.js';

/** The client side of the control channel (see `protocol.ts`). */

/**
 * Asks a supervisor to start a service (no-op when it runs or is starting). Resolves once the start is under
 * way: the supervisor records `starting` before it answers, so the caller can then wait for `running`.
 */
export function requestStart(socketPath: string, service: string, timeoutMs = 5_000): Promise<void> {
  return post(socketPath, service, 'start', timeoutMs).then((status) => {
    if (status !== 202 && status !== 200) throw new Error(`the supervisor refused to start ${service} (HTTP ${status})`);
  });
}

/** Fire and forget: activity reports must never slow or fail a proxied request. */
export function touchService(socketPath: string, service: string): void {
  post(socketPath, service, 'touch', 2_000).catch(() => undefined);
}

function post(socketPath: string, service: string, action: ServiceAction, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path: servicePath(service, action), method: 'POST', timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${socketPath} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
