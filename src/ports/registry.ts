import { PortbrokerError } from '../errors.js';
import { statePaths } from '../platform/paths.js';
import { checkStateFolder, ensureStateFolder } from '../platform/state-folder.js';
import { warn, type WarningSink } from '../platform/warnings.js';
import { emptyRegistry, readBackup, readRegistryFile, RegistryChanged, removeTempFiles, setAside, writeRegistryFile, type Loaded } from './registry-file.js';
import { lockRegistry } from './registry-lock.js';

/**
 * The machine-wide record of reservations, one JSON file in the state folder. Readers never lock: every write
 * replaces the file atomically (temp file, fsync, rename), so a reader sees the old or the new version, whole.
 * Writers take a cross-process lock around read-modify-write, and a write lands only over the version it read:
 * a writer that lost its lock (paused past the stale time) re-reads and applies its change again.
 */

export type ServiceState = 'reserved' | 'starting' | 'running' | 'stopped' | 'crashed';

export interface ServiceRecord {
  port: number;
  /** The port came from the config's `port`, not from the allocator. */
  pinned?: boolean;
  /** false: not HTTP, never routed. */
  proxy: boolean;
  /** A `proxy: false` service's URL template (`${port}` inside), so readers without its config can show it. */
  url?: string;
  /** Extra `*.localhost` names routed to it. */
  hostnames: string[];
  state: ServiceState;
  /** Process group leader of the running command (its pgid is the same number). */
  pid?: number;
  /** The `portbroker up`/`run` process supervising it (several may run for one checkout: `up` and a `run`). */
  owner?: number;
  command?: string;
  onDemand?: boolean;
  /** Stopped on request (`portbroker stop`) by its live supervisor: it stays down, a request does not start it. */
  held?: true;
  /** Added by `portbroker run` to a project whose config does not declare it; a config that does takes it over. */
  adHoc?: true;
  /** When its current process was started (ISO time), while it runs: uptime. */
  startedAt?: string;
  /** How many times its supervisor started it again (crashes, `restart`, on-demand starts after idle). */
  restarts?: number;
  reservedAt: string;
  updatedAt?: string;
}

export interface CheckoutRecord {
  project: string;
  /** Empty for a project's main checkout; a branch label for a linked worktree or a second clone. */
  label: string;
  root: string;
  configFile?: string;
  /** The `portbroker up`/`run` process supervising this checkout, while one runs. */
  ownerPid?: number;
  /** That process's control socket (on-demand starts). */
  control?: string;
  /** How the user ran it (`npx portbroker`): the proxy's pages name commands so. Absent: `portbroker`. */
  invokedAs?: string;
  services: Record<string, ServiceRecord>;
}

export interface AliasRecord {
  port: number;
  createdAt: string;
}

export interface RegistryData {
  version: 1;
  /** Counts the writes: each one is the version after the one it read. */
  generation?: number;
  /** Keyed by checkout root folder. */
  checkouts: Record<string, CheckoutRecord>;
  /** Static routes: host (`docker-api.localhost`) → port. */
  aliases: Record<string, AliasRecord>;
}

export interface RegistryOptions {
  /** Where warnings go (an unparseable registry set aside, entries dropped); default: stderr. */
  onWarning?: WarningSink;
}

export { emptyRegistry };

/**
 * The registry as it is now, without locking. A missing state folder or file is an empty registry; an
 * unparseable file reads as its backup (or empty) with a warning, and is set aside by the next write. A file
 * that cannot be read, or a state folder that is not safe to use, throws.
 */
export function readRegistry(home: string, options: RegistryOptions = {}): RegistryData {
  if (!checkStateFolder(home)) return emptyRegistry();
  const file = statePaths(home).registry;
  const read = readRegistryFile(file);
  if (read.ok) {
    reportDropped(read, options);
    return read.data;
  }
  const backup = readBackup(file);
  warn(options.onWarning, `the registry ${file} is unreadable (${read.reason}); ${backup ? 'using registry.json.bak until' : 'it will be set aside and rebuilt on'} the next change`);
  return backup?.data ?? emptyRegistry();
}

/** How often a writer that lost its lock re-reads and tries again before giving up. */
const ATTEMPTS = 5;

/**
 * Read-modify-write under the registry lock. `change` mutates the data it is given and may run more than once
 * (again on a fresh read when another process wrote meanwhile); the file is rewritten only when something
 * changed. Returns what the last run of `change` returns.
 */
export async function updateRegistry<T>(
  home: string,
  change: (data: RegistryData) => T | Promise<T>,
  options: RegistryOptions = {},
): Promise<T> {
  const file = statePaths(home).registry;
  for (let attempt = 1; ; attempt++) {
    ensureStateFolder(home);
    const lock = await lockRegistry(file);
    try {
      const loaded = loadForUpdate(file, options);
      removeTempFiles(file);
      const before = JSON.stringify(loaded.data);
      const result = await change(loaded.data);
      if (loaded.recovered || JSON.stringify(loaded.data) !== before) {
        if (lock.lost) throw new RegistryChanged();
        loaded.data.generation = (loaded.data.generation ?? 0) + 1;
        writeRegistryFile(file, loaded.data, loaded.identity);
      }
      return result;
    } catch (error) {
      if (!(error instanceof RegistryChanged)) throw error;
      if (attempt === ATTEMPTS) {
        throw new PortbrokerError(`the registry ${file} kept changing under this command (its lock was taken over ${ATTEMPTS} times); nothing was written`, {
          details: ['run the command again; if this repeats, look for a portbroker process that is stopped (`ps -o pid,stat,args -C node`)'],
        });
      }
      warn(options.onWarning, 'the registry lock was taken over while this command was paused; reading the registry again');
    } finally {
      await lock.release();
    }
  }
}

/** The registry to change under the lock: an unparseable file is set aside, and its backup used when it has one. */
function loadForUpdate(file: string, options: RegistryOptions): Loaded & { recovered: boolean } {
  const read = readRegistryFile(file);
  if (read.ok) {
    reportDropped(read, options);
    return { ...read, recovered: read.dropped.length > 0 };
  }
  const backup = readBackup(file);
  const aside = setAside(file);
  if (backup) {
    reportDropped(backup, options);
    warn(options.onWarning, `the registry was unreadable (${read.reason}); moved it to ${aside} and restored the previous version from registry.json.bak`);
    return { data: backup.data, identity: undefined, dropped: backup.dropped, recovered: true };
  }
  warn(options.onWarning, `the registry was unreadable (${read.reason}); moved it to ${aside} and started a new one`);
  return { data: emptyRegistry(), identity: undefined, dropped: [], recovered: false };
}

function reportDropped(loaded: Loaded, options: RegistryOptions): void {
  if (loaded.dropped.length === 0) return;
  const n = loaded.dropped.length;
  const shown = loaded.dropped.slice(0, 5).join('; ');
  warn(options.onWarning, `dropped ${n} malformed registry entr${n === 1 ? 'y' : 'ies'} (the rest is kept): ${shown}${n > 5 ? `; and ${n - 5} more` : ''}`);
}
