import { spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import path from 'node:path';

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
  /**
   * Hold the command until this resolves: the shell starts and waits on its stdin. A burst of services is
   * spawned first and released together; spawned one after another, each spawn would wait for CPU behind
   * the services already booting, and the last would start hundreds of milliseconds late. Should portbroker
   * die before the release, the shell reads end-of-file and exits without running the command.
   */
  gate?: Promise<void>;
}

/** Exit statuses with which a POSIX shell says the command could not be run at all. */
export const NOT_FOUND = 127;
export const NOT_EXECUTABLE = 126;

export function spawnService(options: SpawnOptions): Promise<ServiceProcess> {
  return new Promise((resolve, reject) => {
    const shell = process.platform === 'win32' ? (process.env.ComSpec ?? 'cmd.exe') : '/bin/sh';
    const gated = options.gate !== undefined && process.platform !== 'win32';
    const script = withExec(options.command, options.env, options.cwd);
    const args = process.platform === 'win32' ? ['/d', '/s', '/c', options.command] : ['-c', gated ? `read -r _pb_gate || exit 0\n${script}` : script];
    const child = spawn(shell, args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      // The service's stdin is empty either way: /dev/null, or the gate's pipe, closed once it is open.
      stdio: [gated ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    if (gated && child.stdin) {
      const stdin = child.stdin;
      stdin.on('error', () => undefined); // the shell may be gone already
      void options.gate!.then(() => stdin.end('\n'));
    }
    const exited = new Promise<ExitStatus>((done) => child.once('exit', (code, signal) => done({ code, signal })));
    child.once('error', (error) => {
      if (child.pid === undefined) reject(error);
    });
    child.once('spawn', () => resolve({ pid: child.pid!, child, exited }));
  });
}

/** Shell syntax after which the shell must stay: operators, redirections, subshells, substitutions, lines. */
const SHELL_SYNTAX = /[|&;<>()`\n\\]|\$\(/;
const RESERVED = new Set(['if', 'then', 'else', 'elif', 'fi', 'case', 'esac', 'for', 'while', 'until', 'do', 'done', 'function', '{', '}', '!', 'exec', 'time']);

/**
 * `exec <command>` for a plain command whose program is a file: the shell then becomes the program instead of
 * waiting for it, so the group leader (the pid recorded and shown) is the dev server itself, and each service
 * costs one process, not two. Anything with shell syntax, a leading assignment or a builtin is left as it is.
 */
export function withExec(command: string, env: NodeJS.ProcessEnv, cwd: string): string {
  const trimmed = command.trim();
  if (!trimmed || SHELL_SYNTAX.test(trimmed)) return command;
  const first = trimmed.split(/\s+/, 1)[0]!;
  if (RESERVED.has(first) || /^[A-Za-z_][A-Za-z0-9_]*=/.test(first) || /["'$*?[~]/.test(first)) return command;
  return isProgram(first, env.PATH ?? '', cwd) ? `exec ${trimmed}` : command;
}

function isProgram(name: string, searchPath: string, cwd: string): boolean {
  const candidates = name.includes('/') ? [path.resolve(cwd, name)] : searchPath.split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, name));
  return candidates.some((file) => {
    try {
      const st = statSync(file);
      return st.isFile() && (st.mode & 0o111) !== 0;
    } catch {
      return false;
    }
  });
}
