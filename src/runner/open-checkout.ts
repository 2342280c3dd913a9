import { acceptsConnections } from '../platform/loopback.js';
import type { RegistryOptions } from '../ports/registry.js';
import { pinnedPortBusy } from '../ports/reservations.js';
import { serviceSpec, servicePort } from '../project/open.js';
import { claimCheckout, endOrphans, type Claim } from './ownership.js';
import type { SessionContext } from './session-context.js';

/**
 * The first step of a session: mark the checkout's services as ours (learning which another live portbroker
 * runs), end what a killed portbroker left running, and check every port about to be used, all at once.
 * Throws, before anything is spawned, when a pinned port is held by something else.
 */
export async function openCheckout(
  ctx: SessionContext,
  supervised: string[],
  /** Settled alongside the claim (the control socket opening): a failed claim must not leave it behind. */
  alongside: Promise<unknown>,
  options: RegistryOptions,
): Promise<{ claim: Claim; free: Map<string, number> }> {
  const { project } = ctx;
  // The ports are checked while the checkout is claimed (see `checkPorts`).
  const portsChecked = checkPorts(ctx, supervised);
  const [claimed] = await Promise.allSettled([
    claimCheckout({
      home: ctx.home,
      root: ctx.root,
      services: supervised,
      takeControl: supervised.some((name) => serviceSpec(project, name).start === 'on-demand'),
      onWarning: options.onWarning,
    }),
    alongside,
    portsChecked,
  ]);
  if (claimed.status === 'rejected') throw claimed.reason;
  const claim = claimed.value;
  let free = await portsChecked;
  const ended = await endOrphans(claim, project.checkout.project);
  if (ended.pids.length > 0) {
    ctx.notice(
      'warn',
      `ended ${ended.pids.length} process${ended.pids.length === 1 ? '' : 'es'} of ${ended.services.join(', ') || 'this project'} left running by a portbroker that was killed (pid ${[...claim.deadOwners].join(', ')})`,
    );
    // The orphans held ports: what they held is free now.
    free = await checkPorts(ctx, supervised);
  }
  // A pinned port cannot move: when something else holds one, nothing is started (SPEC, "The allocator").
  const pinnedBusy = supervised.find((name) => serviceSpec(project, name).port !== undefined && !free.has(name) && !claim.elsewhere.has(name));
  if (pinnedBusy) throw pinnedPortBusy(project.config, pinnedBusy, servicePort(project, pinnedBusy), project.settings);
  return { claim, free };
}

/**
 * Checks the ports of every service about to start, all at once, so that the spawns that follow come in one
 * burst: checked one by one, each would wait for CPU behind the services already booting. Resolves with
 * when each free port was found free (a service whose port is busy is absent: its own start names the holder).
 */
async function checkPorts(ctx: SessionContext, names: string[]): Promise<Map<string, number>> {
  const busy = await Promise.all(names.map((name) => acceptsConnections(servicePort(ctx.project, name))));
  const now = Date.now();
  return new Map(names.filter((_name, i) => !busy[i]).map((name) => [name, now]));
}
