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
    claimCheckout({ ...claimOf(ctx, supervised), onWarning: options.onWarning }),
    alongside,
    portsChecked,
  ]);
  if (claimed.status === 'rejected') throw claimed.reason;
  const claim = claimed.value;
  let free = await portsChecked;
  // The orphans held ports: what they held is free now.
  if (await endLeftovers(ctx, claim)) free = await checkPorts(ctx, supervised);
  // A pinned port cannot move: when something else holds one, nothing is started (SPEC, "The allocator").
  const pinnedBusy = supervised.find((name) => serviceSpec(project, name).port !== undefined && !free.has(name) && !claim.elsewhere.has(name));
  if (pinnedBusy) throw pinnedPortBusy(project.config, pinnedBusy, servicePort(project, pinnedBusy), project.settings);
  return { claim, free };
}

/**
 * Services a config edit adds to a running session, taken on as `openCheckout` takes on a session's services:
 * claimed (unless another live portbroker runs them), and what a killed portbroker left running ended first (a
 * killed `portbroker run` of one of them still holds its port). Resolves with those run elsewhere: service → pid.
 */
export async function claimAdded(ctx: SessionContext, added: string[]): Promise<Map<string, number>> {
  const supervised = added.filter((name) => serviceSpec(ctx.project, name).command);
  if (supervised.length === 0) return new Map();
  const claim = await claimCheckout({ ...claimOf(ctx, supervised), inSession: true });
  await endLeftovers(ctx, claim);
  return claim.elsewhere;
}

/** The claim of `supervised` by this session; running on-demand services, it answers the proxy's starts for the checkout. */
function claimOf(ctx: SessionContext, supervised: string[]) {
  const takeControl = supervised.some((name) => serviceSpec(ctx.project, name).start === 'on-demand');
  return { home: ctx.home, root: ctx.root, services: supervised, takeControl, invokedAs: ctx.invokedAs };
}

/** Ends what dead supervisors of the checkout left running, and says so; whether anything was ended. */
async function endLeftovers(ctx: SessionContext, claim: Claim): Promise<boolean> {
  const ended = await endOrphans(claim, ctx.project.checkout.project);
  if (ended.pids.length === 0) return false;
  ctx.notice(
    'warn',
    `ended ${ended.pids.length} process${ended.pids.length === 1 ? '' : 'es'} of ${ended.services.join(', ') || 'this project'} left running by a portbroker that was killed (pid ${[...claim.deadOwners].join(', ')})`,
  );
  return true;
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
