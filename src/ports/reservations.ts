import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ProjectConfig, ServiceSpec } from '../config/project-config.js';
import { checkoutName, toDnsLabel } from '../config/names.js';
import type { Settings } from '../config/settings.js';
import { PortbrokerError } from '../errors.js';
import { findCheckout } from '../platform/git.js';
import { statePaths } from '../platform/paths.js';
import { describeListeners, findListeners } from '../platform/sockets.js';
import { runningProxy } from '../proxy/state.js';
import { allocatePorts, defaultProbe, serviceKey } from './allocator.js';
import { readRegistry, updateRegistry, type CheckoutRecord, type RegistryData, type RegistryOptions, type ServiceRecord } from './registry.js';

/**
 * Makes sure every service of a checkout holds a reservation and returns the checkout's record. Cheap when
 * nothing changed: the registry is read without a lock and returned as is. Otherwise, under the lock, new
 * services get ports, pinned ports are verified, and service metadata (routes, command) is refreshed.
 */
export async function reserveCheckout(config: ProjectConfig, settings: Settings, options: RegistryOptions = {}): Promise<CheckoutRecord> {
  const current = readRegistry(settings.home, options).checkouts[config.root];
  if (current && isUpToDate(current, config)) return current;
  return updateRegistry(settings.home, (data) => reserveInto(data, config, settings), options);
}

async function reserveInto(data: RegistryData, config: ProjectConfig, settings: Settings): Promise<CheckoutRecord> {
  const now = new Date().toISOString();
  const previous = data.checkouts[config.root];
  const label = previous && previous.project === config.name ? previous.label : chooseLabel(data, config.root, config.name);
  const record: CheckoutRecord = previous ?? { project: config.name, label, root: config.root, services: {} };
  record.project = config.name;
  record.label = label;
  record.configFile = config.file;
  data.checkouts[config.root] = record;

  const exclude = reservedPorts(data, settings);
  const missing: ServiceSpec[] = [];
  for (const name of Object.keys(config.services).sort()) {
    const spec = config.services[name]!;
    const existing = record.services[name];
    if (spec.port !== undefined) {
      if (existing?.port !== spec.port) {
        await verifyPinned(data, config, spec, spec.port, settings);
        record.services[name] = { ...describe(spec), port: spec.port, state: existing?.state ?? 'reserved', reservedAt: now };
        if (existing) exclude.delete(existing.port);
        exclude.add(spec.port);
      } else {
        record.services[name] = { ...existing, ...describe(spec) };
      }
    } else if (!existing || existing.pinned) {
      if (existing) exclude.delete(existing.port);
      missing.push(spec);
    } else {
      record.services[name] = { ...existing, ...describe(spec) };
    }
  }

  if (missing.length > 0) {
    let ports: Map<string, number>;
    try {
      ports = await allocatePorts(
        missing.map((s) => ({ key: serviceKey(config.name, label, s.name) })),
        { range: settings.range, exclude, isFree: await defaultProbe() },
      );
    } catch (error) {
      throw new PortbrokerError(`cannot reserve ports for ${config.name}: ${(error as Error).message}`, {
        details: ['free some with `portbroker release --stale`, or widen ports.range in the config'],
      });
    }
    for (const spec of missing) {
      const existing = record.services[spec.name];
      record.services[spec.name] = {
        ...describe(spec),
        port: ports.get(serviceKey(config.name, label, spec.name))!,
        state: existing?.state ?? 'reserved',
        reservedAt: now,
      };
    }
  }
  return record;
}

/** The parts of a service record that follow the config. */
function describe(spec: ServiceSpec): Pick<ServiceRecord, 'pinned' | 'proxy' | 'url' | 'hostnames' | 'command' | 'onDemand' | 'adHoc'> {
  return {
    pinned: spec.port !== undefined ? true : undefined,
    proxy: spec.proxy,
    url: spec.url,
    hostnames: spec.hostnames,
    command: spec.command,
    onDemand: spec.start === 'on-demand' ? true : undefined,
    adHoc: spec.adHoc,
  };
}

function isUpToDate(record: CheckoutRecord, config: ProjectConfig): boolean {
  if (record.project !== config.name || record.configFile !== config.file) return false;
  return Object.values(config.services).every((spec) => {
    const rec = record.services[spec.name];
    if (!rec) return false;
    if (spec.port !== undefined ? rec.port !== spec.port : rec.pinned) return false;
    const want = describe(spec);
    return (
      rec.pinned === want.pinned &&
      rec.proxy === want.proxy &&
      rec.url === want.url &&
      rec.command === want.command &&
      rec.onDemand === want.onDemand &&
      rec.adHoc === want.adHoc &&
      rec.hostnames.join() === want.hostnames.join()
    );
  });
}

/** Every port the allocator must not hand out: all reservations, aliases and the proxy port(s). */
function reservedPorts(data: RegistryData, settings: Settings): Set<number> {
  const ports = new Set<number>([settings.proxyPort]);
  for (const checkout of Object.values(data.checkouts)) for (const s of Object.values(checkout.services)) ports.add(s.port);
  for (const alias of Object.values(data.aliases)) ports.add(alias.port);
  try {
    const proxy = JSON.parse(readFileSync(statePaths(settings.home).proxyState, 'utf8')) as { port?: number };
    if (proxy.port) ports.add(proxy.port);
  } catch {
    // no proxy state yet
  }
  return ports;
}

async function verifyPinned(data: RegistryData, config: ProjectConfig, spec: ServiceSpec, port: number, settings: Settings): Promise<void> {
  for (const checkout of Object.values(data.checkouts)) {
    for (const [name, rec] of Object.entries(checkout.services)) {
      if (rec.port !== port || (checkout.root === config.root && name === spec.name)) continue;
      throw new PortbrokerError(
        `port ${port} pinned by services.${spec.name}.port is reserved by ${checkoutName(checkout.project, checkout.label)}/${name} in ${checkout.root}`,
        { details: [`release it there with \`portbroker release ${name}\`, or pin another port`] },
      );
    }
  }
  const isFree = await defaultProbe();
  if (await isFree(port)) return;
  throw pinnedPortBusy(config, spec.name, port, settings);
}

/** A pinned port something else listens on: who holds it, and the fix. `up` also says this before starting anything. */
export function pinnedPortBusy(config: Pick<ProjectConfig, 'file'>, service: string, port: number, settings: Pick<Settings, 'home' | 'proxyPort'>): PortbrokerError {
  const where = config.file ? ` in ${path.basename(config.file)}` : ' (--port)';
  // Our own proxy is not "another process" to stop: it serves every project.
  if (port === settings.proxyPort || runningProxy(settings.home)?.port === port) {
    return new PortbrokerError(`port ${port} pinned by services.${service}.port is portbroker's proxy port`, {
      details: [`pin another port${where}, or move the proxy: PORTBROKER_PROXY_PORT=<port> or proxy.port in the config`],
    });
  }
  const holders = findListeners(port);
  return new PortbrokerError(
    `port ${port} pinned by services.${service}.port is in use by ${holders.length ? describeListeners(holders) : 'another process'}`,
    { details: [`stop that process, or pin another port${where}`] },
  );
}

/**
 * A linked worktree is labelled by its branch. A second checkout of the same project (a second clone) gets its
 * folder's name, so `web.acme.localhost` stays the first checkout's and neither takes the other's ports.
 */
function chooseLabel(data: RegistryData, root: string, project: string): string {
  const checkout = findCheckout(root);
  const base = checkout?.worktreeBranch ?? checkout?.worktreeName;
  const taken = (label: string) =>
    Object.values(data.checkouts).some((c) => c.root !== root && c.project === project && c.label === label && existsSync(c.root));
  let label = base ? toDnsLabel(base) : '';
  if (!taken(label)) return label;
  const fromFolder = toDnsLabel(path.basename(root));
  label = fromFolder === project ? `${fromFolder}-2` : fromFolder;
  for (let n = 2; taken(label); n++) label = `${fromFolder}-${n}`;
  return label;
}
