import http from 'node:http';

/**
 * The proxy's side of the control socket that a supervising `portbroker up` process serves (HTTP over the Unix
 * socket recorded as `CheckoutRecord.control`):
 *
 *   POST /services/<name>/start  → 202 once the start is under way (no-op when running or starting);
 *                                  404 unknown service. The proxy then waits for the registry state `running`.
 *   POST /services/<name>/touch  → 204; traffic seen, which resets the service's `idleStopMs` timer.
 */

export function requestStart(socketPath: string, service: string, timeoutMs = 5_000): Promise<void> {
  return post(socketPath, `/services/${encodeURIComponent(service)}/start`, timeoutMs).then((status) => {
    if (status !== 202 && status !== 200) throw new Error(`the supervisor refused to start ${service} (HTTP ${status})`);
  });
}

/** Fire and forget: activity reports must never slow or fail a proxied request. */
export function touchService(socketPath: string, service: string): void {
  post(socketPath, `/services/${encodeURIComponent(service)}/touch`, 2_000).catch(() => undefined);
}

function post(socketPath: string, path: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path, method: 'POST', timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${socketPath} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}
