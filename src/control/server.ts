import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { parseServicePath } from './protocol.js';

/** The supervisor's side of the control channel (see `protocol.ts`). */

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
    const target = parseServicePath(req.url ?? '');
    const known = target?.action === 'start' || target?.action === 'touch';
    if (!target || !known || req.method !== 'POST') {
      res.writeHead(known ? 405 : 404, { 'content-type': 'text/plain' }).end(known ? 'use POST\n' : 'not found\n');
      return;
    }
    const { service } = target;
    req.resume();
    if (target.action === 'start') {
      Promise.resolve(handlers.start(service)).then(
        (accepted) => res.writeHead(accepted ? 202 : 404, { 'content-type': 'text/plain' }).end(accepted ? 'starting\n' : `no service "${service}" here\n`),
        (error: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${error.message}\n`),
      );
    } else {
      res.writeHead(handlers.touch(service) ? 204 : 404).end();
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
  // Only this user may drive the supervisor (the folder is 0700 too; the socket says so itself).
  chmodSync(socketPath, 0o600);
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
