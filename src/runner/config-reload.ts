import type { ServiceSpec } from '../config/project-config.js';
import { serviceEnvironment } from '../project/environment.js';
import type { Project } from '../project/open.js';

/**
 * What a saved config edit changes for a running session. A service restarts when its own spec changed (command,
 * cwd, env, port, readiness, hostnames…), or when a variable it already had now has another value (a sibling's
 * pinned port moved: `API_PORT` changed for everyone). A variable that only appears or disappears (`WORKER_PORT`
 * for a service added or removed) restarts nothing: a service that reads it was edited too, or does not care.
 */

/** A project and which of its services a session runs and starts now (`selectServices`). */
export interface Selection {
  project: Project;
  services: string[];
  startNow: string[];
}

/** Loads the edited config; `vet` is called before anything is reserved, and throws to refuse it. */
export type SelectionLoader = (vet: (loaded: Pick<Project, 'config' | 'settings'>) => void) => Promise<Selection>;

export interface ReloadPlan {
  /** Newly run: added to the config, or now needed by the services this `up` was started for. */
  added: string[];
  /** Deleted from the config: stopped, and their reservation (with it their route) released. */
  removed: string[];
  /** Still in the config, but no longer needed by the services this `up` was started for: stopped, port kept. */
  dropped: string[];
  /** Run before and after, with a spec (or variables) that changed. */
  changed: string[];
}

/**
 * Why an edit cannot be applied to a running session at all, or undefined. These settings are the shared proxy's
 * or name every route and reservation of the checkout: they apply to the next `up`.
 */
export function unappliable(before: Pick<Project, 'config' | 'settings'>, after: Pick<Project, 'config' | 'settings'>): string | undefined {
  const moved: string[] = [];
  if (before.config.name !== after.config.name) moved.push(`the project name (${before.config.name} → ${after.config.name})`);
  if (before.settings.proxyPort !== after.settings.proxyPort) moved.push(`the proxy port (${before.settings.proxyPort} → ${after.settings.proxyPort})`);
  if (before.settings.https !== after.settings.https) moved.push(`proxy.https (${before.settings.https} → ${after.settings.https})`);
  if (moved.length === 0) return undefined;
  return `${moved.join(' and ')} changed, which a running up cannot apply: run \`portbroker down\`, then \`portbroker up\``;
}

export function planReload(before: Selection, after: Selection): ReloadPlan {
  const old = new Set(before.services);
  const now = new Set(after.services);
  const gone = before.services.filter((name) => !now.has(name));
  return {
    added: after.services.filter((name) => !old.has(name)),
    removed: gone.filter((name) => !(name in after.project.config.services)),
    dropped: gone.filter((name) => name in after.project.config.services),
    changed: after.services.filter((name) => old.has(name) && serviceChanged(before.project, after.project, name)),
  };
}

/** What an edit stops: the services it changed (started again after), removed or dropped. */
export function touchedBy(plan: ReloadPlan): string[] {
  return [...plan.changed, ...plan.removed, ...plan.dropped];
}

function serviceChanged(before: Project, after: Project, name: string): boolean {
  if (specKey(before.config.services[name]!) !== specKey(after.config.services[name]!)) return true;
  if (before.checkout.services[name]?.port !== after.checkout.services[name]?.port) return true;
  const was = serviceEnvironment(before, name);
  const is = serviceEnvironment(after, name);
  return Object.keys(was).some((key) => key in is && is[key] !== was[key]);
}

/** A spec as comparable text (a `ready.log` RegExp would otherwise print as `{}`). */
function specKey(spec: ServiceSpec): string {
  return JSON.stringify(spec, (_key, value: unknown) => (value instanceof RegExp ? value.toString() : value));
}

/** What applying an edit did to the services it changed. */
export interface ReloadOutcome {
  /** Changed and started again with the new spec. */
  restarted: string[];
  /** Changed but not running here now (stopped on purpose, or on-demand and asleep): the new spec applies at its next start. */
  updated: string[];
  /** Changed, run by another portbroker of this checkout: service → its pid. */
  elsewhere: Map<string, number>;
}

/** The one-line summary of an applied edit (`file` as the user knows it, relative to the checkout). */
export function describeReload(plan: ReloadPlan, outcome: ReloadOutcome, file: string): string {
  const parts: string[] = [];
  if (outcome.restarted.length > 0) parts.push(`restarted ${outcome.restarted.join(', ')}`);
  if (plan.added.length > 0) parts.push(`added ${plan.added.join(', ')}`);
  if (plan.removed.length > 0) parts.push(`removed ${plan.removed.join(', ')} (port and route released)`);
  if (plan.dropped.length > 0) parts.push(`stopped ${plan.dropped.join(', ')} (no longer needed by this up; ports kept)`);
  if (outcome.updated.length > 0) parts.push(`updated ${outcome.updated.join(', ')} (not running: applies at the next start)`);
  for (const [name, pid] of outcome.elsewhere) parts.push(`${name} runs under portbroker pid ${pid}, which applies the edit if it watches the config`);
  if (parts.length === 0) return `${file} changed; no service's spec changed, nothing restarted`;
  return `applied ${file}: ${parts.join('; ')}`;
}
