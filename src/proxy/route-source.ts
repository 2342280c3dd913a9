import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { statePaths } from '../platform/paths.js';
import { ensureStateFolder } from '../platform/state-folder.js';
import { emptyRegistry, readRegistry } from '../ports/registry.js';
import { currentIdentity } from '../ports/registry-file.js';
import { RouteTable } from './route-table.js';

export interface RouteSourceOptions {
  home: string;
  /** Fallback poll: catches missed watch events and processes that died without anyone writing the registry. */
  pollMs?: number;
  onWarning?: (message: string) => void;
}

/**
 * Keeps `current` equal to the registry. The registry is replaced by rename on every write, so the state
 * folder is watched (not the file, whose inode changes); an event rebuilds the table on the next tick, well
 * within 100 ms. The poll also rebuilds, so a service whose process died disappears from the routes even
 * though nobody wrote the registry.
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

  constructor(options: RouteSourceOptions) {
    this.home = options.home;
    this.registryName = path.basename(statePaths(options.home).registry);
    this.warn = options.onWarning ?? ((message) => process.stderr.write(`portbroker proxy: ${message}\n`));
    this.stamp = this.registryStamp();
    this.current = this.build();
    ensureStateFolder(this.home);
    try {
      this.watcher = watch(this.home, { persistent: false }, (_event, file) => {
        if (file === null || file === this.registryName) this.reloadSoon();
      });
      this.watcher.on('error', () => undefined); // the poll carries on alone
    } catch (error) {
      this.warn(`cannot watch ${this.home} (${(error as Error).message}); routes follow the registry by polling only`);
    }
    this.poll = setInterval(() => this.reload(), options.pollMs ?? 1_000);
    this.poll.unref();
  }

  /** Called when the registry or the state of a route changed (after `current` is swapped). */
  subscribe(listener: (table: RouteTable) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Rebuilds the table now; the listeners hear of it when a route changed (the poll mostly finds none). */
  reload(): void {
    if (this.pending) clearImmediate(this.pending);
    this.pending = undefined;
    // The registry's stamp too: a service the proxy does not route (`proxy: false`) changes only the registry, and
    // the dashboard shows it.
    const stamp = this.registryStamp();
    const next = this.build();
    if (next.signature === this.current.signature && stamp === this.stamp) return;
    this.stamp = stamp;
    this.current = next;
    for (const listener of this.listeners) listener(this.current);
  }

  /**
   * The table, rebuilt first if the registry file changed since it was built. A name registered a moment ago is
   * in the file before its watch event reaches this thread (under load, a request on an open connection can come
   * first): a miss is checked against the file before it becomes a 404. One stat when nothing changed.
   */
  catchUp(): RouteTable {
    if (this.registryStamp() !== this.stamp) this.reload();
    return this.current;
  }

  close(): void {
    this.watcher?.close();
    clearInterval(this.poll);
    if (this.pending) clearImmediate(this.pending);
    this.listeners.clear();
  }

  // A write shows as several events (temp file, rename): one rebuild for the burst.
  private reloadSoon(): void {
    this.pending ??= setImmediate(() => this.reload());
  }

  private registryStamp(): string {
    try {
      return currentIdentity(statePaths(this.home).registry) ?? '';
    } catch {
      return ''; // unreadable now: `build` keeps the last routes and says why
    }
  }

  private build(): RouteTable {
    // The poll would repeat a corrupt registry's warning every second: each message is said once.
    const once = (message: string) => {
      if (message !== this.lastWarning) this.warn(message);
      this.lastWarning = message;
    };
    try {
      return RouteTable.fromRegistry(readRegistry(this.home, { onWarning: once }), this.home);
    } catch (error) {
      // A registry that cannot be read now (EACCES, EMFILE) or an unsafe state folder: keep the routes we have.
      once(`${(error as Error).message}; keeping the last routes`);
      return this.current ?? RouteTable.fromRegistry(emptyRegistry(), this.home);
    }
  }
}
