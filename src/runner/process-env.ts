import { serviceEnvironment } from '../project/environment.js';
import type { Project } from '../project/open.js';

/**
 * The whole environment a service process starts with: the inherited one, then exactly what `portbroker env
 * <service>` prints (SPEC.md, "Environment each service gets"), then what only a supervised process needs:
 *
 * - `NODE_OPTIONS` gains `--import=<localhost-dns preload>`, so Node services resolve `*.localhost` (the URLs
 *   in `S_URL`) to loopback even where the system resolver does not; an existing NODE_OPTIONS is kept.
 * - `PORTBROKER_SUPERVISOR=<pid of up/run>` marks every process of the service, children included, so the
 *   processes a service left behind (a daemon that forked away, orphans of a killed `up`) can be found.
 * - `FORCE_COLOR=1` when portbroker prints in colour: children write to a pipe, and most tools drop colour then.
 */

export const SUPERVISOR_VARIABLE = 'PORTBROKER_SUPERVISOR';

/** The preload, next to this file in the build (`dist/platform/localhost-dns.js`). */
export const LOCALHOST_DNS_PRELOAD = new URL('../platform/localhost-dns.js', import.meta.url).href;

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
  env[SUPERVISOR_VARIABLE] = String(options.supervisorPid);
  if (options.forceColor && env.FORCE_COLOR === undefined && env.NO_COLOR === undefined) env.FORCE_COLOR = '1';
  return env;
}

function withPreload(existing: string | undefined): string {
  const flag = `--import=${LOCALHOST_DNS_PRELOAD}`;
  if (!existing?.trim()) return flag;
  return existing.includes(LOCALHOST_DNS_PRELOAD) ? existing : `${existing.trim()} ${flag}`;
}
