import type { AliasRecord, CheckoutRecord, RegistryData, ServiceState } from './registry.js';

/**
 * Checks a parsed registry entry by entry. JSON that parses but is not a registry (an array, no `checkouts`)
 * is reported as unusable; within a registry, a checkout, service or alias with a wrong shape is dropped alone
 * and named in `dropped`, so one bad entry (a hand edit, a bug elsewhere) never takes the others with it and
 * never reaches `ls`, `port` or the proxy. Fields this version does not know are kept.
 */

export type Checked = { ok: true; data: RegistryData; dropped: string[] } | { ok: false; reason: string };

const STATES: ReadonlySet<string> = new Set<ServiceState>(['reserved', 'starting', 'running', 'stopped', 'crashed']);

export function checkRegistry(raw: unknown): Checked {
  if (!isObject(raw)) return { ok: false, reason: 'not a portbroker registry (not a JSON object)' };
  if (raw.version !== 1) return { ok: false, reason: `not a portbroker registry (version ${JSON.stringify(raw.version)}, expected 1)` };
  if (!isObject(raw.checkouts)) return { ok: false, reason: 'not a portbroker registry (no "checkouts" object)' };
  const dropped: string[] = [];
  const checkouts: Record<string, CheckoutRecord> = {};
  // Plain loops: a registry may hold hundreds of thousands of checkouts.
  for (const root of Object.keys(raw.checkouts)) {
    const where = `checkouts[${JSON.stringify(root)}]`;
    const problem = checkoutProblem(raw.checkouts[root], root);
    if (problem) {
      dropped.push(`${where} (${problem})`);
      continue;
    }
    const checkout = raw.checkouts[root] as CheckoutRecord;
    for (const name of Object.keys(checkout.services)) {
      const bad = serviceProblem(checkout.services[name]);
      if (bad) {
        dropped.push(`${where}.services.${name} (${bad})`);
        delete checkout.services[name];
      } else {
        checkout.services[name]!.hostnames ??= [];
      }
    }
    checkouts[root] = checkout;
  }
  const aliases: Record<string, AliasRecord> = {};
  if (raw.aliases !== undefined && !isObject(raw.aliases)) {
    dropped.push('aliases (not an object)');
  } else if (raw.aliases) {
    for (const host of Object.keys(raw.aliases)) {
      const alias = raw.aliases[host];
      if (!isObject(alias)) dropped.push(`aliases[${JSON.stringify(host)}] (not an object)`);
      else if (!isPort(alias.port)) dropped.push(`aliases[${JSON.stringify(host)}] (port ${JSON.stringify(alias.port)} is not an integer in 1-65535)`);
      else aliases[host] = alias as unknown as AliasRecord;
    }
  }
  const data = { ...raw, version: 1, checkouts, aliases } as RegistryData;
  return { ok: true, data, dropped };
}

function checkoutProblem(value: unknown, root: string): string | undefined {
  if (!isObject(value)) return 'not an object';
  if (typeof value.project !== 'string' || value.project === '') return 'project is not a name';
  if (value.label === undefined) value.label = '';
  if (typeof value.label !== 'string') return 'label is not a string';
  if (value.root === undefined) value.root = root;
  if (value.root !== root) return `root ${JSON.stringify(value.root)} is not its key`;
  if (!isObject(value.services)) return 'services is not an object';
  if (value.ownerPid !== undefined && !isPid(value.ownerPid)) return `ownerPid ${JSON.stringify(value.ownerPid)} is not a process id`;
  if (value.configFile !== undefined && typeof value.configFile !== 'string') return 'configFile is not a string';
  if (value.control !== undefined && typeof value.control !== 'string') return 'control is not a string';
  if (value.invokedAs !== undefined && typeof value.invokedAs !== 'string') return 'invokedAs is not a string';
  return undefined;
}

function serviceProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'not an object';
  if (!isPort(value.port)) return `port ${JSON.stringify(value.port)} is not an integer in 1-65535`;
  if (typeof value.state !== 'string' || !STATES.has(value.state)) return `state ${JSON.stringify(value.state)} is not a service state`;
  if (typeof value.proxy !== 'boolean') return 'proxy is not true or false';
  if (value.hostnames !== undefined && !(Array.isArray(value.hostnames) && value.hostnames.every((h) => typeof h === 'string'))) {
    return 'hostnames is not a list of names';
  }
  if (value.pid !== undefined && !isPid(value.pid)) return `pid ${JSON.stringify(value.pid)} is not a process id`;
  if (value.owner !== undefined && !isPid(value.owner)) return `owner ${JSON.stringify(value.owner)} is not a process id`;
  if (value.command !== undefined && typeof value.command !== 'string') return 'command is not a string';
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The only ports a reservation may hold: what `port` prints and the proxy forwards to. */
export function isPort(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535;
}

function isPid(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) > 0;
}
