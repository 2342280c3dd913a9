import { updateRegistry, type RegistryOptions, type ServiceState } from '../ports/registry.js';

/**
 * Publishes service states to the registry, where the proxy routes from them (`running` forwards, `starting`
 * makes requests wait) and `ls` shows them. Changes are coalesced: twenty services turning `starting` at once
 * cost one locked write, not twenty, and the last state of each service always wins.
 */
/** What a supervisor knows of its service's current run: recorded with its state. */
export interface RunInfo {
  startedAt?: number;
  restarts: number;
}

interface Change {
  state: ServiceState;
  pid?: number;
  run?: RunInfo;
}

export class RegistryPublisher {
  private pending = new Map<string, Change>();
  /** The last change of each service: what `republish` writes again. */
  private readonly last = new Map<string, Change>();
  private running: Promise<void> | undefined;
  private readonly heldSet = new Set<string>();

  constructor(
    private readonly home: string,
    private readonly root: string,
    private readonly options: RegistryOptions & { onError?: (error: Error) => void } = {},
  ) {}

  set(service: string, state: ServiceState, pid?: number, run?: RunInfo): void {
    this.last.set(service, { state, pid, run });
    this.pending.set(service, { state, pid, run });
    if (!this.running) this.running = this.drain();
  }

  /**
   * Services stopped on request (`portbroker stop`): they stay down, and are recorded so (`held`), so that no
   * reader takes them for waiting on demand.
   */
  get held(): ReadonlySet<string> {
    return this.heldSet;
  }

  /** `portbroker stop` (true) or `start`/`restart` (false): written with the service's last state. */
  hold(service: string, held: boolean): void {
    if (held === this.heldSet.has(service)) return;
    if (held) this.heldSet.add(service);
    else this.heldSet.delete(service);
    this.pending.set(service, this.last.get(service) ?? { state: 'stopped' });
    if (!this.running) this.running = this.drain();
  }

  /** A service removed from the session: nothing more is written for it. */
  forget(service: string): void {
    this.last.delete(service);
    this.pending.delete(service);
    this.heldSet.delete(service);
  }

  /** Writes every service's last state again (the registry was lost: the state folder was deleted). */
  republish(): void {
    for (const [service, { state, pid, run }] of this.last) this.set(service, state, pid, run);
  }

  /** Resolves when every change made so far is written. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(): Promise<void> {
    // Let the other services of this tick queue their change first.
    await new Promise((resolve) => setImmediate(resolve));
    try {
      while (this.pending.size > 0) {
        const batch = this.pending;
        this.pending = new Map();
        await this.write(batch);
      }
    } catch (error) {
      this.pending.clear();
      this.options.onError?.(error as Error);
    } finally {
      this.running = undefined;
    }
  }

  private write(batch: Map<string, Change>): Promise<void> {
    const me = process.pid;
    return updateRegistry(
      this.home,
      (data) => {
        const checkout = data.checkouts[this.root];
        if (!checkout) return;
        const now = new Date().toISOString();
        for (const [service, { state, pid, run }] of batch) {
          const rec = checkout.services[service];
          // Released meanwhile (`portbroker release`), or taken over by another supervisor: not ours to write.
          if (!rec || (rec.owner !== undefined && rec.owner !== me)) continue;
          rec.state = state;
          rec.owner = me;
          const live = state === 'starting' || state === 'running';
          if (pid !== undefined && live) rec.pid = pid;
          else delete rec.pid;
          if (live && run?.startedAt !== undefined) rec.startedAt = new Date(run.startedAt).toISOString();
          else if (!live) delete rec.startedAt;
          if (run) rec.restarts = run.restarts;
          if (this.heldSet.has(service)) rec.held = true;
          else delete rec.held;
          rec.updatedAt = now;
        }
      },
      this.options,
    );
  }
}

/**
 * The registry loads its lock module on its first write. `up` starts loading them while it
 * reads the config, which takes their import off the path to the first service's start.
 */
export function preloadRegistryWriter(): void {
  void import('proper-lockfile').catch(() => undefined);
}
