import { requirePort } from '../config/settings.js';
import { stateHome } from '../platform/paths.js';
import { findListeners, type Listener } from '../platform/sockets.js';
import { readRegistry } from '../ports/registry.js';
import { runningProxy } from '../proxy/state.js';
import type { CommonOptions } from '../project/open.js';

export interface Reservation {
  kind: 'service' | 'alias' | 'proxy';
  project?: string;
  label?: string;
  service?: string;
  root?: string;
  host?: string;
}

export interface WhoResult {
  port: number;
  listeners: Listener[];
  /** The reservation this port belongs to, if any. */
  reservation: Reservation | null;
}

/** Which process listens on `port` (any address) and which reservation the port belongs to. */
export function who(port: number | string, options: CommonOptions = {}): WhoResult {
  const n = requirePort(port, 'who');
  // Only the state folder matters here, and no config can move it: who needs no project.
  return { port: n, listeners: findListeners(n), reservation: findReservation(n, stateHome(options.env ?? process.env), options) };
}

export function findReservation(port: number, home: string, options: CommonOptions = {}): Reservation | null {
  const data = readRegistry(home, options);
  for (const checkout of Object.values(data.checkouts)) {
    for (const [service, rec] of Object.entries(checkout.services)) {
      if (rec.port === port) return { kind: 'service', project: checkout.project, label: checkout.label, service, root: checkout.root };
    }
  }
  for (const [host, alias] of Object.entries(data.aliases)) if (alias.port === port) return { kind: 'alias', host };
  if (runningProxy(home)?.port === port) return { kind: 'proxy' };
  return null;
}
