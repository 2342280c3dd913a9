import { mkdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';

/**
 * The supervisor's side of the control socket (the client is `control-client.ts`, used by the proxy): HTTP
 * over a Unix socket that only this user can reach (the state folder is 0700).
 *
 *   POST /services/<name>/start  → 202 once a start is under way (or it already runs); 404 unknown service
 *   POST /services/<name>/touch  → 204; a request went through, which resets its idle timer
 */

export interface ControlHandlers {
  /** false: this supervisor does not run that service. Resolves once the start is under way. */
  start(service: string): boolean | Promise<boolean>;
  touch(service: string): boolean;
}

export interface ControlServer {
  path: string;
  close(): Promise<void>;
}

export async function startControlServer(socketPath: string, handlers: ControlHandlers): Promise<ControlServer> {
  mkdirSync(path.dirname(socketPath), { recursive: true, mode: 0o700 });
  // The name holds our pid: a file there now was left by a dead process that had the same pid.
  rmSync(socketPath, { force: true });
  const server = http.createServer((req, res) => {
    const match = /^\/services\/([^/?]+)\/(start|touch)$/.exec(req.url ?? '');
    if (!match || req.method !== 'POST') {
      res.writeHead(match ? 405 : 404, { 'content-type': 'text/plain' }).end(match ? 'use POST\n' : 'not found\n');
      return;
    }
    const service = decodeURIComponent(match[1]!);
    req.resume();
    if (match[2] === 'start') {
      Promise.resolve(handlers.start(service)).then(
        (accepted) => res.writeHead(accepted ? 202 : 404, { 'content-type': 'text/plain' }).end(accepted ? 'starting\n' : `no service "${service}" here\n`),
        (error: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${error.message}\n`),
      );
    } else {
      const known = handlers.touch(service);
      res.writeHead(known ? 204 : 404).end();
    }
  });
  // A proxy's keep-alive connection must not hold shutdown up.
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    path: socketPath,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        rmSync(socketPath, { force: true });
      }),
  };
}
