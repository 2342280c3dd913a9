import { requestDown } from '../control/client.js';
import { controlSocket } from '../platform/paths.js';
import { isAlive } from '../platform/proc.js';
import { terminate } from '../platform/process-groups.js';
import { sleep } from '../platform/sleep.js';
import { PortbrokerError } from '../errors.js';
import { readRegistry } from '../ports/registry.js';
import { openProject } from '../project/open.js';
import { markedProcesses } from '../runner/marked-processes.js';
import { supervisorAlive } from '../runner/ownership.js';
import { currentCheckout, type ControlOptions } from './control.js';

/** What `down` did: the `--json` object. */
export interface DownResult {
  project: string;
  label: string;
  /** The portbroker processes asked to stop, now gone. */
  supervisors: number[];
  /** Services that were running or starting under them. */
  services: string[];
  /** Processes a killed portbroker had left running, ended too. */
  orphans: number[];
}

/**
 * `portbroker down`: stops the project's services and the portbroker processes supervising them (foreground
 * or detached `up`, `run`), and ends what a killed one left behind. Resolves once they are all gone;
 * reservations stay.
 */
export async function down(options: ControlOptions = {}): Promise<DownResult> {
  const project = await openProject(options);
  const home = project.settings.home;
  const checkout = currentCheckout(project);
  const owners = new Set<number>();
  for (const rec of Object.values(checkout.services)) if (rec.owner !== undefined) owners.add(rec.owner);
  if (checkout.ownerPid !== undefined) owners.add(checkout.ownerPid);
  const live = [...owners].filter((pid) => supervisorAlive(home, pid));
  const dead = new Set([...owners].filter((pid) => !live.includes(pid)));
  const services = Object.entries(checkout.services)
    .filter(([, rec]) => rec.owner !== undefined && live.includes(rec.owner) && (rec.state === 'running' || rec.state === 'starting'))
    .map(([name]) => name);

  await Promise.all(live.map((pid) => requestDown(controlSocket(home, pid)).catch(() => undefined)));
  const graceMs = Math.max(0, ...Object.values(project.config.services).map((s) => s.shutdownGraceMs));
  const deadline = Date.now() + graceMs + 15_000;
  // A session of this very process (a program that called `up()`) is gone once it gave its services up.
  const running = (pid: number) => (pid === process.pid ? ownsServices(home, project.config.root) : isAlive(pid));
  while (live.some(running)) {
    if (Date.now() > deadline) {
      const left = live.filter(running);
      throw new PortbrokerError(`portbroker ${left.length === 1 ? `pid ${left[0]} has` : `pids ${left.join(', ')} have`} not stopped within ${Math.round((graceMs + 15_000) / 1000)} s`, {
        details: [`stop ${left.length === 1 ? 'it' : 'them'} with kill -INT ${left.join(' ')} (the services stop with it)`],
      });
    }
    await sleep(50);
  }
  // A killed supervisor's services carry its mark: end them as the next `up` would.
  const orphans = markedProcesses(dead).filter((p) => p.project === checkout.project);
  if (orphans.length > 0) await terminate({ groups: orphans.map((p) => p.pgid), pids: orphans.map((p) => p.pid) }, graceMs);
  return { project: checkout.project, label: checkout.label, supervisors: live, services, orphans: orphans.map((p) => p.pid) };
}

function ownsServices(home: string, root: string): boolean {
  const checkout = readRegistry(home).checkouts[root];
  return Object.values(checkout?.services ?? {}).some((rec) => rec.owner === process.pid) || checkout?.ownerPid === process.pid;
}
