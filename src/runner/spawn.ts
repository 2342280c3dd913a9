import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Starts a service's command through the shell, in its own process group (detached: the child calls setsid,
 * so its pgid is its pid). Signals to the group then reach the shell, the dev server and whatever they spawned,
 * and a Ctrl-C in portbroker's terminal reaches only portbroker, which stops the services in order.
 */

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServiceProcess {
  /** The shell's pid: the process group's leader and id. */
  pid: number;
  child: ChildProcess;
  /** Resolves when the group leader exits (members may live on: see `liveGroups`). */
  exited: Promise<ExitStatus>;
}

export interface SpawnOptions {
  command: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** Exit statuses with which a POSIX shell says the command could not be run at all. */
export const NOT_FOUND = 127;
export const NOT_EXECUTABLE = 126;

export function spawnService(options: SpawnOptions): Promise<ServiceProcess> {
  return new Promise((resolve, reject) => {
    const shell = process.platform === 'win32' ? (process.env.ComSpec ?? 'cmd.exe') : '/bin/sh';
    const args = process.platform === 'win32' ? ['/d', '/s', '/c', options.command] : ['-c', options.command];
    const child = spawn(shell, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const exited = new Promise<ExitStatus>((done) => child.once('exit', (code, signal) => done({ code, signal })));
    child.once('error', (error) => {
      if (child.pid === undefined) reject(error);
    });
    child.once('spawn', () => resolve({ pid: child.pid!, child, exited }));
  });
}
