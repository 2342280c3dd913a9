import { lookup } from 'node:dns/promises';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DASHBOARD_HOST, qualifiedHost } from '../config/names.js';
import type { Settings } from '../config/settings.js';
import { PortbrokerError, UsageError } from '../errors.js';
import { blockHosts, readHostsFile, withBlock, writeHostsFile } from '../platform/hosts-file.js';
import { statePaths } from '../platform/paths.js';
import { shellQuote } from '../platform/shell.js';
import { readRegistry, type RegistryData } from '../ports/registry.js';
import { resolveContext, type CommonOptions } from '../project/context.js';

/**
 * `portbroker hosts sync|clean|status`: where the system resolver does not resolve `*.localhost` (many Linux
 * setups; Python, curl scripts, Go and Java ask it), a marked block of `127.0.0.1`/`::1` lines in the hosts file
 * names every route. Only that block is ever written.
 */

export type HostsAction = 'sync' | 'clean' | 'status';

export function assertHostsAction(action: string): HostsAction {
  if (action === 'sync' || action === 'clean' || action === 'status') return action;
  throw new UsageError(`unknown hosts action "${action}"; use sync, clean or status`, ['portbroker hosts status']);
}

export interface HostsResult {
  file: string;
  /** Names in portbroker's block now (after sync or clean). */
  hosts: string[];
  /** The file was rewritten. */
  changed: boolean;
}

export interface HostsStatus extends HostsResult {
  /** Every routed name, which `sync` would write. */
  wanted: string[];
  missing: string[];
  /** The system resolver answers `*.localhost` itself (the block is then not needed). */
  resolverHandlesLocalhost: boolean;
  /** `up` and `run` keep the block in step (setting `hosts`, PORTBROKER_HOSTS). */
  auto: boolean;
}

export async function hosts(action: HostsAction, options: CommonOptions = {}): Promise<HostsResult | HostsStatus> {
  const { settings } = await resolveContext(options, 'if-loadable');
  if (action === 'status') return hostsStatus(settings);
  return writeBlock(settings, action === 'sync' ? routedHosts(readRegistry(settings.home, options)) : []);
}

/** Every name the proxy routes: qualified and short service names, extra hostnames, aliases, the dashboard. */
export function routedHosts(data: RegistryData): string[] {
  const names = new Set<string>([DASHBOARD_HOST]);
  for (const checkout of Object.values(data.checkouts)) {
    for (const [service, rec] of Object.entries(checkout.services)) {
      if (!rec.proxy) continue;
      names.add(qualifiedHost(service, checkout.project, checkout.label));
      names.add(`${service}.localhost`);
      for (const host of rec.hostnames) names.add(host);
    }
  }
  for (const host of Object.keys(data.aliases)) names.add(host);
  return [...names].sort();
}

async function hostsStatus(settings: Settings): Promise<HostsStatus> {
  const file = settings.hostsFile;
  const current = blockHosts(readHostsFile(file));
  const wanted = routedHosts(readRegistry(settings.home));
  return {
    file,
    hosts: current,
    changed: false,
    wanted,
    missing: wanted.filter((h) => !current.includes(h)),
    resolverHandlesLocalhost: await resolverHandlesLocalhost(),
    auto: settings.hosts,
  };
}

async function writeBlock(settings: Settings, names: string[]): Promise<HostsResult> {
  const file = settings.hostsFile;
  let after: string | undefined;
  try {
    const before = readHostsFile(file);
    after = withBlock(before, names);
    if (after === before) return { file, hosts: blockHosts(before), changed: false };
    await writeHostsFile(file, after);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      throw new PortbrokerError(`cannot ${after === undefined ? 'read' : 'write'} ${file}: ${code === 'EROFS' ? 'read-only file system' : 'permission denied'}`, {
        details: after === undefined ? [`make it readable, or point PORTBROKER_HOSTS_FILE at another file`] : [`run it with the rights to: ${privilegedCommand(settings, after)}`],
      });
    }
    throw error;
  }
  return { file, hosts: names, changed: true };
}

/**
 * The exact command that writes it as root. The new content is prepared in the state folder, so root runs only
 * `cp` (which keeps the file's owner and mode), not portbroker against another user's state folder.
 */
function privilegedCommand(settings: Settings, content: string): string {
  const pending = path.join(statePaths(settings.home).home, 'hosts.pending');
  mkdirSync(path.dirname(pending), { recursive: true, mode: 0o700 });
  writeFileSync(pending, content, { mode: 0o644 });
  return `sudo cp ${shellQuote(pending)} ${shellQuote(settings.hostsFile)}`;
}

/** Whether the system resolver (what Python, curl and Go ask) answers a `*.localhost` name nobody listed. */
export async function resolverHandlesLocalhost(): Promise<boolean> {
  try {
    const answers = await lookup(`portbroker-probe-${process.pid}.localhost`, { all: true });
    return answers.length > 0;
  } catch {
    return false;
  }
}

/**
 * For `up` and `run`: where the resolver lacks `*.localhost` and the setting allows it, brings the block in step
 * with the routes. What happened is said once per state folder (the same message is not repeated).
 */
export async function syncHostsForRoutes(settings: Settings, say: (level: 'info' | 'warn', message: string) => void): Promise<void> {
  if (!settings.hosts || (await resolverHandlesLocalhost())) return;
  const sayOnce = (level: 'info' | 'warn', message: string) => {
    const marker = path.join(statePaths(settings.home).home, 'hosts-notice');
    if (existsSync(marker) && readFileSync(marker, 'utf8') === message) return;
    say(level, message);
    try {
      writeFileSync(marker, message, { mode: 0o600 });
    } catch {
      // said, just not remembered
    }
  };
  const off = 'hosts: false in the config or PORTBROKER_HOSTS=0 turns this off';
  try {
    const result = await writeBlock(settings, routedHosts(readRegistry(settings.home)));
    if (result.changed) {
      sayOnce('info', `the system resolver does not resolve *.localhost, so portbroker keeps its names in ${result.file} for non-Node clients (portbroker hosts clean removes them; ${off})`);
    }
  } catch (error) {
    const details = error instanceof PortbrokerError ? error.details : [];
    sayOnce('warn', [`the system resolver does not resolve *.localhost and ${(error as Error).message}: non-Node clients (Python, curl, Go) cannot reach the services' URLs; use their S_ADDR (127.0.0.1:<port>) or`, ...details, off].join('\n'));
  }
}

/** doctor: can clients that ask the system resolver (Python, curl, Go, Java) resolve the routed names? */
export async function hostsResolution(settings: Settings, data: RegistryData): Promise<{ id: string; status: 'ok' | 'warn'; message: string; fix?: string }> {
  const id = 'hosts-file';
  if (await resolverHandlesLocalhost()) return { id, status: 'ok', message: 'non-Node clients resolve *.localhost through the system resolver' };
  const wanted = routedHosts(data);
  const missing = wanted.filter((h) => !blockHosts(readHostsFile(settings.hostsFile)).includes(h));
  if (missing.length === 0) return { id, status: 'ok', message: `non-Node clients resolve the ${wanted.length} routed names through ${settings.hostsFile}` };
  return {
    id,
    status: 'warn',
    message: `the system resolver does not resolve *.localhost and ${missing.length} routed name${missing.length === 1 ? ' is' : 's are'} not in ${settings.hostsFile} (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', …' : ''}): Python, curl and Go cannot reach those URLs`,
    fix: `portbroker hosts sync${settings.hosts ? '' : ' (up keeps it in step unless hosts: false or PORTBROKER_HOSTS=0)'}`,
  };
}
