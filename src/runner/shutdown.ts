import { kill, terminate } from '../platform/process-groups.js';
import { serviceSpec } from '../project/open.js';
import { markedProcesses } from './marked-processes.js';
import type { SessionContext } from './session-context.js';

/**
 * How a session's services end: in reverse dependency order (web before the api it talks to), each with
 * SIGTERM then SIGKILL after its grace period; then whatever carries our mark but left its group; and, when
 * portbroker is exiting or forced, SIGKILL to everything at once.
 */

/** Stops every service in reverse dependency order; then ends leftovers and marks the services stopped. */
export async function stopInOrder(ctx: SessionContext): Promise<void> {
  const { supervisors, project } = ctx;
  const t0 = Date.now();
  const active = [...supervisors.values()].filter((s) => s.active);
  if (active.length > 0) ctx.notice('info', `stopping ${active.map((s) => s.name).reverse().join(', ')}`);
  const stopped = new Map<string, Promise<void>>();
  const stopOne = (name: string): Promise<void> => {
    let done = stopped.get(name);
    if (!done) {
      done = (async () => {
        const dependents = [...supervisors.keys()].filter((d) => serviceSpec(project, d).dependsOn.includes(name));
        await Promise.all(dependents.map(stopOne));
        await supervisors.get(name)?.stop(t0 + serviceSpec(project, name).shutdownGraceMs);
      })();
      stopped.set(name, done);
    }
    return done;
  };
  await Promise.all([...supervisors.keys()].map(stopOne));
  await endLeftovers(ctx);
  for (const name of supervisors.keys()) if (ctx.statuses.get(name) !== 'crashed') ctx.setStatus(name, 'stopped');
}

/** Processes with our mark that outlived their group (they left it): ended too, and named. */
async function endLeftovers(ctx: SessionContext): Promise<void> {
  const left = markedProcesses(process.pid);
  if (left.length === 0) return;
  const services = [...new Set(left.map((p) => p.service ?? '?'))].join(', ');
  ctx.notice('warn', `${services} left ${left.length === 1 ? `pid ${left[0]!.pid}` : `pids ${left.map((p) => p.pid).join(', ')}`} running outside its process group; ending it too`);
  await terminate({ pids: left.map((p) => p.pid), groups: left.map((p) => p.pgid) }, 1_000);
}

/** SIGKILL to everything we started, synchronously: a forced stop, or portbroker exiting unexpectedly. */
export function killAll(ctx: SessionContext): void {
  for (const sup of ctx.supervisors.values()) {
    const { groups, pids } = sup.processes();
    sup.kill();
    kill(groups, pids);
  }
  const left = markedProcesses(process.pid);
  kill(
    left.map((p) => p.pgid),
    left.map((p) => p.pid),
  );
}
