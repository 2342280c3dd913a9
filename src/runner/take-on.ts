import { serviceSpec } from '../project/open.js';
import { ownerUse } from './session-end.js';
import type { SessionContext } from './session-context.js';
import type { ServiceSupervisor } from './supervisor.js';

/**
 * How a session takes on one of its services, when it opens and when a config edit adds or changes one: run by
 * another live portbroker of this checkout (it is used there), a reservation without a command, or supervised here.
 */
export function takeOnService(
  ctx: SessionContext,
  name: string,
  how: { owner: number | undefined; waitsForRequest: boolean; supervise: () => ServiceSupervisor },
): void {
  if (how.owner !== undefined) {
    ctx.elsewhere.set(name, how.owner);
    ctx.setStatus(name, 'elsewhere');
    const use = ownerUse(ctx, name);
    if (use) ctx.notice('info', `${name} ${use === 'runs' ? 'already runs' : 'is on demand'} under another portbroker (pid ${how.owner}); using that one`);
  } else if (!serviceSpec(ctx.project, name).command) {
    ctx.setStatus(name, 'reserved');
  } else {
    ctx.supervisors.set(name, how.supervise());
    ctx.setStatus(name, how.waitsForRequest ? 'on-demand' : 'stopped');
  }
}
