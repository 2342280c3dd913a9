import path from 'node:path';
import { isLoopbackAddress } from '../platform/loopback.js';
import { isAlive } from '../platform/proc.js';
import { treePids } from '../platform/process-tree.js';
import { findListeners, formatAddress, listenersOf, type Listener } from '../platform/sockets.js';
import type { CheckoutRecord, RegistryData } from '../ports/registry.js';
import { detectDevServer } from '../runner/framework-flags.js';
import type { Check } from './doctor.js';

/**
 * doctor's exposure check: every socket a service's processes listen on (not only its reserved port: a dev
 * server's HMR or debug socket counts too) must be on loopback. It covers the project of this folder: the
 * config's checkout, or outside any config the checkout of `portbroker run` in this folder or above it.
 */
export function exposedServices(data: RegistryData, configRoot: string | undefined, cwd: string): Check {
  const checkout = configRoot !== undefined ? data.checkouts[configRoot] : adHocCheckout(data, cwd);
  const exposed: string[] = [];
  const fixes: string[] = [];
  for (const [name, rec] of Object.entries(checkout?.services ?? {})) {
    const sockets = [...findListeners(rec.port)];
    if (rec.pid !== undefined && isAlive(rec.pid)) sockets.push(...listenersOf(treePids([rec.pid])));
    const open = unique(sockets.filter((l) => !isLoopbackAddress(l.address)));
    if (open.length === 0) continue;
    exposed.push(...open.map((l) => `${name} on ${formatAddress(l.address)}:${l.port}${l.pid ? ` (pid ${l.pid})` : ''}`));
    fixes.push(loopbackFix(name, rec.command, checkout!.root));
  }
  const what = checkout ? `of ${checkout.project}` : 'recorded for this folder';
  if (exposed.length === 0) return { id: 'exposed-services', status: 'ok', message: `no service ${what} listens on a network-wide address` };
  return {
    id: 'exposed-services',
    status: 'fail',
    message: `reachable from the network: ${exposed.join(', ')}`,
    fix: fixes.join('; '),
  };
}

/** The checkout `portbroker run` recorded for this folder or the nearest one above it. */
function adHocCheckout(data: RegistryData, cwd: string): CheckoutRecord | undefined {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    const found = data.checkouts[dir];
    if (found) return found;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** How to keep a service on loopback, in its tool's own terms where portbroker knows the tool. */
function loopbackFix(name: string, command: string | undefined, cwd: string): string {
  const server = command ? detectDevServer(command, cwd) : undefined;
  if (server) return `make ${name} listen on 127.0.0.1: ${server.name} takes ${server.loopbackHint} (portbroker adds it unless the command sets another address)`;
  return `make ${name} listen on 127.0.0.1 only: HOST=127.0.0.1 is in its environment, or pass its host/bind flag (e.g. --host 127.0.0.1)`;
}

function unique(listeners: Listener[]): Listener[] {
  const seen = new Set<string>();
  return listeners.filter((l) => {
    const key = `${l.address}:${l.port}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
}
