import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { DOWN_PATH, parseServicePath, type ActionResult, type ControlAction } from './protocol.js';

/** The supervisor's side of the control channel (see `protocol.ts`). */

export interface ControlHandlers {
  /** false: this supervisor does not run that service. Resolves once the start is under way. */
  start(service: string): boolean | Promise<boolean>;
  touch(service: string): boolean;
  /** Carries out an action and answers once it is done; undefined: not a service of this supervisor. */
  act?(service: string, action: ControlAction): Promise<ActionResult | undefined>;
  /** Stop everything and exit (answered first). */
  down?(): void;
}

/** Thrown by a handler to refuse (409) with a sentence that says why and what to do. */
export class ControlRefusal extends Error {}

export interface ControlServer {
  path: string;
  close(): Promise<void>;
}

export async function startControlServer(socketPath: string, handlers: ControlHandlers): Promise<ControlServer> {
  mkdirSync(path.dirname(socketPath), { recursive: true, mode: 0o700 });
  // The name holds our pid: a file there now was left by a dead process that had the same pid.
  rmSync(socketPath, { force: true });
  const server = http.createServer((req, res) => {
    req.resume();
    if (req.method !== 'POST') return void answer(res, 405, { error: 'use POST' });
    if (req.url === DOWN_PATH && handlers.down) {
      answer(res, 202, { stopping: process.pid });
      return void res.once('finish', () => handlers.down!());
    }
    const target = parseServicePath(req.url ?? '');
    if (!target) return void answer(res, 404, { error: `not a control request: ${req.url}` });
    const { service, action } = target;
    const notHere = { error: `no service "${service}" here` };
    let work: Promise<void>;
    if (action === 'touch') {
      work = Promise.resolve().then(() => (handlers.touch(service) ? void res.writeHead(204).end() : answer(res, 404, notHere)));
    } else if (action === 'start' && !target.wait) {
      work = Promise.resolve(handlers.start(service)).then((accepted) => (accepted ? answer(res, 202, { starting: service }) : answer(res, 404, notHere)));
    } else if ((action === 'start' || action === 'restart' || action === 'stop') && handlers.act) {
      work = handlers.act(service, action).then((result) => (result ? answer(res, 200, result) : answer(res, 404, notHere)));
    } else {
      return void answer(res, 404, { error: `unknown action "${action}"` });
    }
    work.catch((error: Error) => answer(res, error instanceof ControlRefusal ? 409 : 500, { error: error.message }));
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

function answer(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
}
