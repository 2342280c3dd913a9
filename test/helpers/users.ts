import { spawn } from 'node:child_process';
import { chownSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { CLI, type RunOptions, type RunResult } from './cli.js';

/**
 * Tests run as root, which no permission check stops. These run the real CLI as `nobody` (runuser) where a check
 * needs an ordinary user: a registry it cannot read, a state folder it does not own.
 */

export const NOBODY = { uid: 65534, gid: 65534 };

/** Gives a folder and everything in it to `nobody`. */
export function chownToNobody(dir: string): void {
  chownSync(dir, NOBODY.uid, NOBODY.gid);
  if (!statSync(dir).isDirectory()) return;
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) chownToNobody(full);
    else chownSync(full, NOBODY.uid, NOBODY.gid);
  }
}

/** Runs the CLI as `nobody` to completion (killed after `timeoutMs`). */
export function runAsNobody(args: string[], options: RunOptions & { cwd: string }): Promise<RunResult & { ms: number }> {
  const started = Date.now();
  const child = spawn('runuser', ['-u', 'nobody', '--', process.execPath, CLI, ...args], {
    cwd: options.cwd,
    env: { ...process.env, FORCE_COLOR: undefined, HOME: '/nonexistent', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own group: a timeout ends runuser and the CLI under it
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }, options.timeoutMs ?? 30_000);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}
