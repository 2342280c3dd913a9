import { currentCheckout, type ControlOptions } from '../commands/control.js';
import { down } from '../commands/down.js';
import { followSupervision } from '../commands/logs.js';
import type { ServiceView } from '../commands/up.js';
import { supervisionOf } from '../control/service-actions.js';
import { isAlive } from '../platform/proc.js';
import { liveState } from '../ports/live-state.js';
import { serviceUrl, type Project } from '../project/open.js';
import { ownerState } from '../runner/service-views.js';
import { selectServices } from '../runner/start-order.js';
import { SessionView } from './session-view.js';

/**
 * A plain `up` on a project whose services already run under another portbroker (an `up -d`, another
 * terminal's `up`): instead of starting nothing, it attaches: shows the table and the services' new output, as
 * if it had started them. Ctrl-C stops the project (as it would have); when that portbroker ends, so does this.
 * Returns undefined when there is nothing to attach to (something must be started here).
 */
export async function attachIfRunning(project: Project, names: string[], options: ControlOptions, timestamps: boolean): Promise<number | undefined> {
  const { startNow } = selectServices(project.config, names);
  const checkout = currentCheckout(project);
  const owners = new Set<number>();
  for (const name of startNow) {
    const supervision = supervisionOf(project.settings.home, checkout, name);
    const rec = checkout.services[name];
    if (supervision.kind !== 'live' || !rec || !['running', 'starting'].includes(liveState(rec))) return undefined;
    owners.add(supervision.pid);
  }
  if (owners.size === 0) return undefined;

  const services = names.length > 0 ? startNow : project.config.order;
  const view = new SessionView({ services, timestamps });
  const rows: ServiceView[] = services.map((name) => {
    const rec = checkout.services[name]!;
    return { name, port: rec.port, url: serviceUrl(project, name) ?? null, status: rec.owner ? 'elsewhere' : 'reserved', owner: rec.owner, ownerState: ownerState(rec), pid: rec.pid };
  });
  view.table(rows);
  const pids = [...owners].join(', ');
  view.hint(`attached to portbroker pid ${pids}, which runs them: their new output follows; Ctrl-C stops them (portbroker down)`);
  const following = followSupervision(project, services, { ...options, lines: 0, onLines: (lines) => lines.forEach((l) => view.handle({ type: 'log', service: l.service, line: l.text, stream: 'stdout', time: l.time ?? undefined })) });

  let poll: NodeJS.Timeout | undefined;
  const reason = await new Promise<'signal' | 'gone'>((resolve) => {
    poll = setInterval(() => [...owners].every((pid) => !isAlive(pid)) && resolve('gone'), 250);
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.once(signal, () => resolve('signal'));
  });
  clearInterval(poll);
  following.close();
  if (reason === 'signal') {
    view.notice('info', 'stopping…');
    await down(options);
  } else {
    view.notice('info', `portbroker pid ${pids} ended`);
  }
  view.close();
  return 0;
}
