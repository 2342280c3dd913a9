import type { ActionResult, ControlAction } from '../control/protocol.js';
import { actOn, notSupervised, supervisionOf } from '../control/service-actions.js';
import { suggest } from '../config/validate.js';
import { UsageError } from '../errors.js';
import { readRegistry, type CheckoutRecord } from '../ports/registry.js';
import { openProject, type CommonOptions, type Project } from '../project/open.js';

export type { ActionResult } from '../control/protocol.js';

export interface ControlOptions extends CommonOptions {
  /** How long to wait for each service (default: its readiness timeout plus its shutdown grace, plus 10 s). */
  timeoutMs?: number;
}

/**
 * `portbroker restart|stop|start <service…>`: acts on services of a running project through the portbroker
 * process that supervises them (a foreground or detached `up`), from any terminal and any folder of the
 * project. Resolves with what each action did once it is done (a start or restart: ready or failed).
 * Nothing is done when one of the names is unknown or not running under a live portbroker.
 */
export function restart(services: string[], options: ControlOptions = {}): Promise<ActionResult[]> {
  return act('restart', services, options);
}

/** Stops services (all that run, without names); each stays reserved and routed, and down until started. */
export function stop(services: string[] = [], options: ControlOptions = {}): Promise<ActionResult[]> {
  return act('stop', services, options);
}

/** Starts services of a running project (after a `stop`, or a crash it gave up on). */
export function start(services: string[], options: ControlOptions = {}): Promise<ActionResult[]> {
  return act('start', services, options);
}

async function act(action: ControlAction, names: string[], options: ControlOptions): Promise<ActionResult[]> {
  const project = await openProject(options);
  const home = project.settings.home;
  const checkout = currentCheckout(project);
  const services = names.length > 0 ? namedServices(project, names) : runningServices(project, checkout, action);
  for (const name of services) {
    const supervision = supervisionOf(home, checkout, name);
    if (supervision.kind !== 'live') throw notSupervised(name, supervision, `portbroker up${names.length > 0 ? ` ${name}` : ''}`);
  }
  const results: ActionResult[] = [];
  // One after another, in dependency order: a restarted api is ready before web restarts.
  for (const name of services) {
    const spec = project.config.services[name]!;
    results.push(await actOn(home, checkout, name, action, options.timeoutMs ?? spec.ready.timeoutMs + spec.shutdownGraceMs + 10_000));
  }
  return results;
}

/** The checkout's record as it is now (not as reserved when the project was opened). */
export function currentCheckout(project: Project): CheckoutRecord {
  return readRegistry(project.settings.home).checkouts[project.config.root] ?? project.checkout;
}

/** The named services in dependency order; an unknown name is a usage error with a did-you-mean. */
export function namedServices(project: Project, names: string[]): string[] {
  const { config } = project;
  for (const name of names) {
    if (name in config.services) continue;
    const hint = suggest(name, config.order);
    throw new UsageError(`unknown service "${name}" in ${config.file ?? config.root}${hint ? ` (did you mean "${hint}"?)` : ''}`, [`declared services: ${config.order.join(', ')}`]);
  }
  return config.order.filter((name) => names.includes(name));
}

function runningServices(project: Project, checkout: CheckoutRecord, action: ControlAction): string[] {
  if (action !== 'stop') throw new UsageError(`name the services to ${action}: portbroker ${action} <service…>`, [`declared services: ${project.config.order.join(', ')}`]);
  const supervised = project.config.order.filter((name) => supervisionOf(project.settings.home, checkout, name).kind === 'live');
  if (supervised.length === 0) throw notSupervised(project.config.name, { kind: 'none' }, 'portbroker up');
  return supervised;
}
