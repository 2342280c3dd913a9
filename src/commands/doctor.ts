import { lookup } from 'node:dns/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';
import type { Settings } from '../config/settings.js';
import { certificateChecks } from '../tls/doctor-checks.js';
import type { ProjectConfig } from '../config/project-config.js';
import { PortbrokerError } from '../errors.js';
import { ephemeralRange } from '../platform/ephemeral.js';
import { ensureStateFolder } from '../platform/state-folder.js';
import { preferredBand } from '../ports/allocator.js';
import { describeListeners, findListeners } from '../platform/sockets.js';
import { serviceState } from '../ports/live-state.js';
import { emptyRegistry, readRegistry, type RegistryData } from '../ports/registry.js';
import { runningProxy } from '../proxy/state.js';
import { withAdHocServices } from '../project/adhoc.js';
import { hostsResolution } from './hosts.js';
import { resolveContext, type CommonOptions } from '../project/context.js';
import { exposedServices } from './doctor-exposure.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface Check {
  id: string;
  status: CheckStatus;
  message: string;
  /** What to do about it, when not ok. */
  fix?: string;
}

/** Every check of the machine and of this project; each ok, warn or fail, with a fix. */
export async function doctor(options: CommonOptions = {}): Promise<Check[]> {
  const { settings, config, configError } = await resolveContext(options, 'diagnose');
  const checks: Check[] = [configCheck(config, configError)];
  const folder = stateFolder(settings);
  checks.push(folder);
  let data = emptyRegistry();
  if (folder.status === 'ok') {
    try {
      data = readRegistry(settings.home, options);
    } catch (error) {
      const [fix] = error instanceof PortbrokerError ? error.details : [];
      checks.push({ id: 'registry', status: 'fail', message: (error as Error).message, fix: fix ?? 'see the message' });
    }
  }
  // Services `run` added beside the config are not stale.
  const project = config && withAdHocServices(config, data.checkouts[config.root]);
  checks.push(proxyPort(settings));
  checks.push(...certificateChecks({ ...settings, env: options.env }));
  checks.push(await localhostResolves(), await hostsResolution(settings, data));
  checks.push(await loopback('127.0.0.1'), await loopback('::1'));
  checks.push(rangeOverlap(settings));
  checks.push(staleReservations(data, project));
  checks.push(orphans(data));
  checks.push(exposedServices(data, config?.root, options.cwd ?? process.cwd()));
  return checks;
}

function configCheck(config: ProjectConfig | undefined, error: Error | undefined): Check {
  if (error) return { id: 'config', status: 'fail', message: error.message, fix: 'fix the config file as the message says' };
  if (!config) return { id: 'config', status: 'warn', message: 'no portbroker config in this folder or above it', fix: 'create one with `portbroker init`' };
  return { id: 'config', status: 'ok', message: `config ${config.file} loads (${Object.keys(config.services).length} services)` };
}

/** The state folder is created if missing, and must be the user's own and writable by nobody else (see platform/state-folder). */
function stateFolder(settings: Settings): Check {
  try {
    ensureStateFolder(settings.home);
    return { id: 'state-folder', status: 'ok', message: `state folder ${settings.home} is yours alone and writable` };
  } catch (error) {
    const [fix] = error instanceof PortbrokerError ? error.details : [];
    return { id: 'state-folder', status: 'fail', message: (error as Error).message, fix: fix ?? 'point PORTBROKER_HOME at a folder you own' };
  }
}

function proxyPort(settings: Settings): Check {
  const port = settings.proxyPort;
  const proxy = runningProxy(settings.home);
  const holders = findListeners(port);
  if (proxy && proxy.port === port) return { id: 'proxy-port', status: 'ok', message: `proxy port ${port} is portbroker's own proxy (pid ${proxy.pid})` };
  if (holders.length === 0) return { id: 'proxy-port', status: 'ok', message: `proxy port ${port} is free` };
  return {
    id: 'proxy-port',
    status: 'fail',
    message: `proxy port ${port} is held by ${describeListeners(holders)}`,
    fix: `stop that process, or choose another port: PORTBROKER_PROXY_PORT=<port> or proxy.port in the config`,
  };
}

async function localhostResolves(): Promise<Check> {
  const host = 'portbroker-doctor.localhost';
  try {
    const answers = await lookup(host, { all: true });
    const loopbackOnly = answers.every((a) => a.address === '127.0.0.1' || a.address === '::1' || a.address.startsWith('127.'));
    if (loopbackOnly) return { id: 'localhost-dns', status: 'ok', message: `*.localhost resolves to loopback (${answers.map((a) => a.address).join(', ')})` };
    return {
      id: 'localhost-dns',
      status: 'fail',
      message: `${host} resolves to ${answers.map((a) => a.address).join(', ')}, not loopback`,
      fix: 'remove the resolver or /etc/hosts entry that sends *.localhost elsewhere',
    };
  } catch {
    return {
      id: 'localhost-dns',
      status: 'warn',
      message: 'the system resolver does not resolve *.localhost; browsers do it themselves, Node services get a preload, other clients (Python, curl, Go) need the hosts-file block',
      fix: 'portbroker hosts sync (up keeps it in step), or install nss-myhostname (Debian: apt-get install libnss-myhostname) or systemd-resolved',
    };
  }
}

function loopback(address: '127.0.0.1' | '::1'): Promise<Check> {
  const id = address === '::1' ? 'ipv6-loopback' : 'ipv4-loopback';
  return new Promise((resolve) => {
    const server = net.createServer((socket) => socket.end());
    server.once('error', (error) =>
      resolve({
        id,
        status: address === '::1' ? 'warn' : 'fail',
        message: `cannot listen on ${address}: ${error.message}`,
        fix: address === '::1' ? 'enable IPv6 on the loopback interface (sysctl net.ipv6.conf.lo.disable_ipv6=0); the proxy then serves IPv4 only' : 'bring up the loopback interface (ip link set lo up)',
      }),
    );
    server.listen(0, address, () => {
      const { port } = server.address() as net.AddressInfo;
      const socket = net.connect(port, address);
      const finish = (check: Check) => {
        socket.destroy();
        server.close();
        resolve(check);
      };
      socket.once('connect', () => finish({ id, status: 'ok', message: `${address} loopback accepts connections` }));
      socket.once('error', (error) => finish({ id, status: 'fail', message: `cannot connect to ${address}: ${error.message}`, fix: 'check the firewall rules for the loopback interface' }));
    });
  });
}

/** Whether outgoing connections may take the ports services prefer. The band itself never follows the OS. */
function rangeOverlap(settings: Settings): Check {
  const [lo, hi] = preferredBand(settings.range);
  const eph = ephemeralRange();
  if (!eph) return { id: 'ephemeral-range', status: 'ok', message: 'no ephemeral range known for this OS' };
  const overlapLo = Math.max(lo, eph[0]);
  const overlapHi = Math.min(hi, eph[1]);
  const band = `the preferred ports ${lo}-${hi}`;
  if (overlapLo > overlapHi) return { id: 'ephemeral-range', status: 'ok', message: `${band} are clear of the OS ephemeral range ${eph[0]}-${eph[1]}` };
  // The same band on every OS keeps teammates' ports equal; a port an outgoing connection holds is skipped as a conflict.
  return {
    id: 'ephemeral-range',
    status: 'ok',
    message: `${overlapLo}-${overlapHi} of ${band} lie in the OS ephemeral range ${eph[0]}-${eph[1]}: a port an outgoing connection holds is skipped, and the service then gets another port on this machine`,
  };
}

function staleReservations(data: RegistryData, config: ProjectConfig | undefined): Check {
  const stale: string[] = [];
  for (const checkout of Object.values(data.checkouts)) {
    const gone = !existsSync(checkout.root) || (checkout.configFile !== undefined && !existsSync(checkout.configFile));
    for (const name of Object.keys(checkout.services)) {
      const dropped = config !== undefined && checkout.root === config.root && !(name in config.services);
      if (gone || dropped) stale.push(`${checkout.project}/${name} (${gone ? `${checkout.root} is gone` : 'no longer in the config'})`);
    }
  }
  if (stale.length === 0) return { id: 'stale-reservations', status: 'ok', message: 'no stale reservations' };
  return {
    id: 'stale-reservations',
    status: 'warn',
    message: `${stale.length} stale reservation${stale.length === 1 ? '' : 's'}: ${stale.slice(0, 5).join(', ')}${stale.length > 5 ? ', …' : ''}`,
    fix: 'portbroker release --stale',
  };
}

function orphans(data: RegistryData): Check {
  const found: string[] = [];
  for (const checkout of Object.values(data.checkouts)) {
    for (const [name, rec] of Object.entries(checkout.services)) {
      if (serviceState(checkout, rec) === 'orphaned') found.push(`${checkout.project}/${name} (process group ${rec.pid})`);
    }
  }
  if (found.length === 0) return { id: 'orphans', status: 'ok', message: 'no orphaned service processes' };
  return {
    id: 'orphans',
    status: 'warn',
    message: `service processes left running by a portbroker that is gone: ${found.join(', ')}`,
    fix: 'the next `portbroker up` of that project ends them; or kill each group now: kill -TERM -- -<pid>',
  };
}
