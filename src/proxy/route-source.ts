import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { statePaths } from '../platform/paths.js';
import { isAlive } from '../platform/proc.js';
import { ensureStateFolder } from '../platform/state-folder.js';
import { emptyRegistry, readRegistry } from '../ports/registry.js';
import type { Liveness } from '../ports/live-state.js';
import { currentIdentity } from '../ports/registry-file.js';
import { RouteTable } from './route-table.js';

export interface RouteSourceOptions {
  home: string;
  /** Fallback poll: catches missed watch events and processes that died without anyone writing the registry. */
  pollMs?: number;
  onWarning?: (message: string) => void;
}

/** Processes asked per turn of the event loop by the poll (each answer reads /proc, tens of µs). */
const LIVENESS_SLICE = 25;
/** The stamp after a failed read: no file has it, so the next poll (or miss) reads again. */
const UNREAD = 'unread';

/**
 * Keeps `current` equal to the registry. The registry is replaced by rename on every write, so the state
 * folder is watched (not the file, whose inode changes); an event rebuilds the table on the next tick, well
 * within 100 ms. The poll catches what no event tells: a write whose event was missed, and a service whose
 * process died without anyone writing the registry (its route then says so).
 */
export class RouteSource {
  current: RouteTable;
  private readonly home: string;
  private readonly registryName: string;
  private readonly listeners = new Set<(table: RouteTable) => void>();
  private watcher: FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private pending: NodeJS.Immediate | undefined;
  private lastWarning = '';
  private readonly warn: (message: string) => void;
  /** The registry file's identity and change time when the table was last built. */
  private stamp: string;
  /** Every process the current table's states depend on, and whether it lived then: what the poll asks again. */
  private liveness = new Map<number, boolean>();
  private checking = false;
  private closed = false;

  constructor(options: RouteSourceOptions) {
    this.home = options.home;
    this.registryName = path.basename(statePaths(options.home).registry);
    this.warn = options.onWarning ?? ((message) => process.stderr.write(`portbroker proxy: ${message}\n`));
    this.stamp = this.registryStamp();
    const first = this.build();
    if (!first) this.stamp = UNREAD;
    this.current = first ?? RouteTable.fromRegistry(emptyRegistry(), this.home);
    ensureStateFolder(this.home);
    try {
      this.watcher = watch(this.home, { persistent: false }, (_event, file) => {
        if (file === null || file === this.registryName) this.reloadSoon();
      });
      this.watcher.on('error', () => undefined); // the poll carries on alone
    } catch (error) {
      this.warn(`cannot watch ${this.home} (${(error as Error).message}); routes follow the registry by polling only`);
    }
    this.poll = setInterval(() => void this.check(), options.pollMs ?? 1_000);
    this.poll.unref();
  }

  /** Called when the registry or the state of a route changed (after `current` is swapped). */
  subscribe(listener: (table: RouteTable) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Rebuilds the table now; the listeners hear of it when a route changed (the poll mostly finds none). */
  reload(): void {
    this.rebuild(this.registryStamp());
  }

  /**
   * The table, rebuilt first if the registry file changed since it was built. A name registered a moment ago is
   * in the file before its watch event reaches this thread (under load, a request on an open connection can come
   * first): a miss is checked against the file before it becomes a 404. One stat when nothing changed.
   */
  catchUp(): RouteTable {
    const stamp = this.registryStamp();
    if (stamp !== this.stamp) this.rebuild(stamp);
    return this.current;
  }

  /** `stamp`: the registry file's, read just before. */
  private rebuild(stamp: string): void {
    if (this.pending) clearImmediate(this.pending);
    this.pending = undefined;
    const next = this.build();
    // Not read (EMFILE, EACCES): the routes stay as they were, and the next poll or miss reads again.
    if (!next) return void (this.stamp = UNREAD);
    // The registry's stamp too: a service the proxy does not route (`proxy: false`) changes only the registry, and
    // the dashboard shows it.
    if (next.signature === this.current.signature && stamp === this.stamp) return;
    this.stamp = stamp;
    this.current = next;
    for (const listener of this.listeners) listener(this.current);
  }

  close(): void {
    this.closed = true;
    this.watcher?.close();
    clearInterval(this.poll);
    if (this.pending) clearImmediate(this.pending);
    this.listeners.clear();
  }

  /**
   * The poll. A changed registry is read again; otherwise only the processes are asked again, a slice at a time,
   * and the table is rebuilt when one of them died or came back. Rebuilding the whole table every second held the
   * event loop for 10–30 ms each time with 200 services, and every forwarded request waited on it.
   */
  private async check(): Promise<void> {
    if (this.checking || this.closed) return;
    const stamp = this.registryStamp();
    if (stamp !== this.stamp) return this.rebuild(stamp);
    this.checking = true;
    try {
      let asked = 0;
      for (const [pid, lived] of this.liveness) {
        if (isAlive(pid) !== lived) return this.reload();
        if (++asked % LIVENESS_SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
        if (this.closed) return;
      }
    } finally {
      this.checking = false;
    }
  }

  // A write shows as several events (temp file, rename): one rebuild for the burst, none if a miss caught up first.
  private reloadSoon(): void {
    this.pending ??= setImmediate(() => {
      this.pending = undefined;
      this.catchUp();
    });
  }

  private registryStamp(): string {
    try {
      return currentIdentity(statePaths(this.home).registry) ?? '';
    } catch {
      return ''; // unreadable now: `build` keeps the last routes and says why
    }
  }

  /** The table the registry gives now; undefined when it cannot be read (said once). */
  private build(): RouteTable | undefined {
    // The poll would repeat a corrupt registry's warning every second: each message is said once.
    const once = (message: string) => {
      if (message !== this.lastWarning) this.warn(message);
      this.lastWarning = message;
    };
    // Each process is asked once per build (a checkout's supervisor stands behind each of its services).
    const answers = new Map<number, boolean>();
    const alive: Liveness = (pid) => {
      if (pid === undefined) return false;
      let lives = answers.get(pid);
      if (lives === undefined) answers.set(pid, (lives = isAlive(pid)));
      return lives;
    };
    try {
      const table = RouteTable.fromRegistry(readRegistry(this.home, { onWarning: once }), this.home, alive);
      this.liveness = answers;
      return table;
    } catch (error) {
      // A registry that cannot be read now (EACCES, EMFILE) or an unsafe state folder: keep the routes we have.
      once(`${(error as Error).message}; keeping the last routes`);
      return undefined;
    }
  }
}
