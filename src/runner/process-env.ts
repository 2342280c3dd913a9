import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serviceEnvironment } from '../project/environment.js';
import type { Project } from '../project/open.js';

/**
 * The whole environment a service process starts with: the inherited one, then exactly what `portbroker env
 * <service>` prints (SPEC.md, "Environment each service gets"), then what only a supervised process needs:
 *
 * - `NODE_OPTIONS` gains `--require=<localhost-dns preload>`, so Node services resolve `*.localhost` (the URLs
 *   in `S_URL`) to loopback even where the system resolver does not; an existing NODE_OPTIONS is kept.
 * - `PORTBROKER_SUPERVISOR=<pid of up/run>` marks every process of the service, children included, so the
 *   processes a service left behind (a daemon that forked away, orphans of a killed `up`) can be found.
 * - `PATH` starts with the `node_modules/.bin` folders from the service's folder up to the checkout root, as
 *   `npm run` does, so `command: 'vite'` finds the workspace's vite.
 * - `FORCE_COLOR=1` when portbroker prints in colour: children write to a pipe, and most tools drop colour then.
 */

export const SUPERVISOR_VARIABLE = 'PORTBROKER_SUPERVISOR';

/** The preload (CommonJS, see `localhost-dns.cts`), next to this file in the build. */
export const LOCALHOST_DNS_PRELOAD = fileURLToPath(new URL('../platform/localhost-dns.cjs', import.meta.url));

export interface ProcessEnvOptions {
  supervisorPid: number;
  forceColor?: boolean;
  /** The environment to inherit (default: this process's). */
  inherit?: NodeJS.ProcessEnv;
}

export function processEnvironment(project: Project, service: string, options: ProcessEnvOptions): NodeJS.ProcessEnv {
  const inherited = { ...(options.inherit ?? process.env) };
  // A variable this portbroker set for itself would mislead the service about its own place.
  delete inherited[SUPERVISOR_VARIABLE];
  const env: NodeJS.ProcessEnv = { ...inherited, ...serviceEnvironment(project, service) };
  env.NODE_OPTIONS = withPreload(env.NODE_OPTIONS);
  const pathKey = Object.keys(env).find((k) => k.toUpperCase() === 'PATH') ?? 'PATH';
  env[pathKey] = [...binFolders(project.config.services[service]?.cwd ?? project.config.root, project.config.root), env[pathKey]]
    .filter(Boolean)
    .join(path.delimiter);
  env[SUPERVISOR_VARIABLE] = String(options.supervisorPid);
  if (options.forceColor && env.FORCE_COLOR === undefined && env.NO_COLOR === undefined) env.FORCE_COLOR = '1';
  return env;
}

function withPreload(existing: string | undefined): string {
  // NODE_OPTIONS splits on spaces; a path with spaces goes in double quotes.
  const flag = /[\s"\\]/.test(LOCALHOST_DNS_PRELOAD) ? `--require "${LOCALHOST_DNS_PRELOAD.replace(/["\\]/g, '\\$&')}"` : `--require=${LOCALHOST_DNS_PRELOAD}`;
  if (!existing?.trim()) return flag;
  return existing.includes(LOCALHOST_DNS_PRELOAD) ? existing : `${existing.trim()} ${flag}`;
}

/** `node_modules/.bin` of `cwd` and of each folder above it up to `root` (or the filesystem root), nearest first. */
function binFolders(cwd: string, root: string): string[] {
  const folders: string[] = [];
  let dir = path.resolve(cwd);
  const stop = path.resolve(root);
  const inside = dir === stop || dir.startsWith(stop + path.sep);
  for (;;) {
    const bin = path.join(dir, 'node_modules', '.bin');
    if (existsSync(bin)) folders.push(bin);
    const parent = path.dirname(dir);
    if ((inside && dir === stop) || parent === dir) return folders;
    dir = parent;
  }
}
