import { liveState, waitsForRequest } from '../ports/live-state.js';
import { readRegistry, type ServiceRecord } from '../ports/registry.js';
import { serviceUrl, servicePort } from '../project/open.js';
import type { ServiceStatus } from './events.js';
import type { SessionContext } from './session-context.js';

export interface ServiceView {
  name: string;
  port: number;
  /** null for a `proxy: false` service without a `url`. */
  url: string | null;
  status: ServiceStatus;
  pid?: number;
  /** `elsewhere`: the portbroker process that runs it, and what the registry says of it. */
  owner?: number;
  ownerState?: 'running' | 'starting' | 'on-demand' | 'stopped' | 'crashed';
}

/** Every service of the session with its port, URL and status, in dependency order. */
export function serviceViews(ctx: SessionContext, names: string[]): ServiceView[] {
  const records = ctx.elsewhere.size > 0 ? readRegistry(ctx.home).checkouts[ctx.root]?.services : undefined;
  return names.map((name) => {
    const view: ServiceView = {
      name,
      port: servicePort(ctx.project, name),
      url: serviceUrl(ctx.project, name) ?? null,
      status: ctx.statuses.get(name) ?? 'stopped',
      pid: ctx.supervisors.get(name)?.pid,
    };
    const owner = ctx.elsewhere.get(name);
    const rec = records?.[name];
    if (owner !== undefined && rec) {
      view.owner = owner;
      view.pid = rec.pid;
      view.ownerState = ownerState(rec);
    }
    return view;
  });
}

/** What another portbroker does with a service of its own, from its record: the table's `running (portbroker pid N)`. */
export function ownerState(rec: ServiceRecord): NonNullable<ServiceView['ownerState']> {
  const state = liveState(rec);
  return state === 'running' || state === 'starting' || state === 'crashed' ? state : waitsForRequest(rec) ? 'on-demand' : 'stopped';
}
