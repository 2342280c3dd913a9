import { existsSync } from 'node:fs';
import { controlSocket } from '../platform/paths.js';
import { commandLine, isAlive } from '../platform/proc.js';
import { liveGroups, terminate } from '../platform/process-groups.js';
import { updateRegistry, type CheckoutRecord, type RegistryOptions, type ServiceRecord } from '../ports/registry.js';
import { markedProcesses } from './marked-processes.js';

/**
 * Who supervises which service of a checkout. Several `up`/`run` processes may run for one checkout (`up` in
 * one terminal, `run storybook` in another): each owns the services it started (`ServiceRecord.owner`), and one
 * of them is the checkout's `ownerPid`, whose control socket the proxy calls for on-demand starts. A service
 * whose owner is dead but whose processes live on is an orphan (its `up` was SIGKILLed): the next supervisor
 * ends it before starting anything.
 */

const isActive = (rec: ServiceRecord) => rec.state === 'running' || rec.state === 'starting';

/**
 * Whether `pid` is a live portbroker supervisor. A dead supervisor's pid may have been reused by an unrelated
 * process, so a live pid must also look like portbroker: its control socket exists, or its command line names
 * portbroker. (Erring towards "alive" only means a service is not started twice.)
 */
export function supervisorAlive(home: string, pid: number | undefined): boolean {
  if (!pid || !isAlive(pid)) return false;
  if (pid === process.pid || existsSync(controlSocket(home, pid))) return true;
  const cmd = commandLine(pid);
  return cmd === undefined || /portbroker|cli[/\\]main\.[cm]?js/.test(cmd);
}

export interface Claim {
  /** Services of ours that another live supervisor runs: service → its pid. */
  elsewhere: Map<string, number>;
  /** Services whose recorded processes were left by a dead supervisor, with the recorded group. */
  orphans: Array<{ service: string; pid?: number }>;
  /** Dead supervisors this checkout's records name: their processes carry their mark (`markedProcesses`). */
  deadOwners: Set<number>;
  /** Whether the proxy now calls our control socket. */
  control: boolean;
}

export interface ClaimOptions extends RegistryOptions {
  home: string;
  root: string;
  /** The services this session supervises. */
  services: string[];
  /** Take the checkout's control socket even from a live owner (we run on-demand services). */
  takeControl: boolean;
  /** How the user ran this portbroker (`npx portbroker`), recorded with the control socket. */
  invokedAs?: string;
  /**
   * This process already runs a session of the checkout (a config edit added services): records it owns are its
   * own. At open, a record naming our pid was left by a dead supervisor whose pid was reused.
   */
  inSession?: boolean;
}

/** Marks our services as ours and collects orphans and services run elsewhere, in one locked write. */
export function claimCheckout(options: ClaimOptions): Promise<Claim> {
  const me = process.pid;
  return updateRegistry(
    options.home,
    (data) => {
      const claim: Claim = { elsewhere: new Map(), orphans: [], deadOwners: new Set(), control: false };
      const checkout = data.checkouts[options.root];
      if (!checkout) return claim;
      const ownerAlive = checkout.ownerPid !== undefined && checkout.ownerPid !== me && supervisorAlive(options.home, checkout.ownerPid);
      if (checkout.ownerPid !== undefined && checkout.ownerPid !== me && !ownerAlive) claim.deadOwners.add(checkout.ownerPid);
      for (const [name, rec] of Object.entries(checkout.services)) {
        const owner = rec.owner ?? (isActive(rec) ? checkout.ownerPid : undefined);
        if (options.inSession && owner === me) continue;
        if (owner !== undefined && owner !== me && supervisorAlive(options.home, owner)) {
          if (options.services.includes(name)) claim.elsewhere.set(name, owner);
          continue;
        }
        if (owner !== undefined && owner !== me) claim.deadOwners.add(owner);
        if (isActive(rec)) claim.orphans.push({ service: name, pid: rec.pid });
        if (isActive(rec) || owner !== undefined) {
          if (isActive(rec)) rec.state = 'stopped';
          delete rec.pid;
          delete rec.startedAt;
          delete rec.owner;
          delete rec.held;
        }
        if (options.services.includes(name)) {
          rec.owner = me;
          delete rec.restarts;
          delete rec.held;
        }
      }
      if (!ownerAlive || options.takeControl) {
        setOwner(checkout, options.home, me, options.invokedAs);
        claim.control = true;
      }
      return claim;
    },
    options,
  );
}

export interface EndedOrphans {
  services: string[];
  pids: number[];
}

/**
 * Ends what dead supervisors of this checkout left running: every process carrying their mark (group members,
 * children that left the group), and, where /proc cannot tell, the recorded groups that still live.
 */
export async function endOrphans(claim: Claim, project: string, graceMs = 2_000): Promise<EndedOrphans> {
  const result: EndedOrphans = { services: [], pids: [] };
  if (claim.deadOwners.size === 0 && claim.orphans.length === 0) return result;
  const tagged = markedProcesses(claim.deadOwners).filter((p) => p.project === project);
  const groups = new Set<number>();
  const pids = new Set<number>();
  const services = new Set<string>();
  for (const p of tagged) {
    pids.add(p.pid);
    if (p.pgid > 1 && p.pgid !== process.pid) groups.add(p.pgid);
    if (p.service) services.add(p.service);
  }
  if (process.platform !== 'linux') {
    // No environments to read: trust the registry's groups that still live.
    const recorded = claim.orphans.map((o) => o.pid).filter((pid): pid is number => pid !== undefined);
    const live = liveGroups(recorded);
    for (const o of claim.orphans) {
      if (o.pid !== undefined && live.has(o.pid)) {
        groups.add(o.pid);
        pids.add(o.pid);
        services.add(o.service);
      }
    }
  }
  if (pids.size === 0) return result;
  await terminate({ groups: [...groups], pids: [...pids] }, graceMs);
  return { services: [...services].sort(), pids: [...pids].sort((a, b) => a - b) };
}

/**
 * Our services are stopped and no longer ours. When the session ends (`handOver`), the checkout's control passes to
 * another live supervisor, if any; a running session that lets some services go (a config edit) keeps it.
 */
export function releaseCheckout(home: string, root: string, services: string[], options: RegistryOptions = {}, handOver = true): Promise<void> {
  const me = process.pid;
  return updateRegistry(
    home,
    (data) => {
      const checkout: CheckoutRecord | undefined = data.checkouts[root];
      if (!checkout) return;
      const now = new Date().toISOString();
      for (const name of services) {
        const rec = checkout.services[name];
        if (!rec || (rec.owner !== undefined && rec.owner !== me)) continue;
        if (rec.state !== 'reserved') rec.state = 'stopped';
        delete rec.pid;
        delete rec.startedAt;
        delete rec.owner;
        rec.updatedAt = now;
      }
      if (handOver && checkout.ownerPid === me) {
        const heir = Object.values(checkout.services)
          .map((rec) => rec.owner)
          .find((owner) => owner !== undefined && owner !== me && supervisorAlive(home, owner));
        // How the heir was run is not known here: its pages say plain `portbroker`.
        if (heir !== undefined) setOwner(checkout, home, heir, undefined);
        else {
          delete checkout.ownerPid;
          delete checkout.control;
        }
      }
    },
    options,
  );
}

/** Makes `pid` the checkout's supervisor: its control socket, and how it was run (`npx portbroker`) for its pages. */
export function setOwner(checkout: CheckoutRecord, home: string, pid: number, invokedAs: string | undefined): void {
  checkout.ownerPid = pid;
  checkout.control = controlSocket(home, pid);
  if (invokedAs === undefined) delete checkout.invokedAs;
  else checkout.invokedAs = invokedAs;
}

/** Services removed from the config while running: their reservations (and routes) are dropped, if still ours. */
export function forgetServices(home: string, root: string, services: string[], options: RegistryOptions = {}): Promise<void> {
  return updateRegistry(
    home,
    (data) => {
      const checkout = data.checkouts[root];
      if (!checkout) return;
      for (const name of services) {
        const rec = checkout.services[name];
        if (rec && (rec.owner === undefined || rec.owner === process.pid)) delete checkout.services[name];
      }
    },
    options,
  );
}
