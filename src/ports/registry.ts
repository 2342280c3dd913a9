import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { statePaths } from '../platform/paths.js';
import { PortbrokerError } from '../errors.js';
import { warn, type WarningSink } from '../platform/warnings.js';

/**
 * The machine-wide record of reservations, one JSON file in the state folder. Readers never lock: every write
 * replaces the file atomically (temp file, fsync, rename), so a reader sees the old or the new version, whole.
 * Writers take a cross-process lock around read-modify-write.
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
  services: Record<string, ServiceRecord>;
}

export interface AliasRecord {
  port: number;
  createdAt: string;
}

export interface RegistryData {
  version: 1;
  /** Keyed by checkout root folder. */
  checkouts: Record<string, CheckoutRecord>;
  /** Static routes: host (`docker-api.localhost`) → port. */
  aliases: Record<string, AliasRecord>;
}

export interface RegistryOptions {
  /** Where warnings go (a corrupt registry set aside); default: stderr. */
  onWarning?: WarningSink;
}

export function emptyRegistry(): RegistryData {
  return { version: 1, checkouts: {}, aliases: {} };
}

/** The registry as it is now, without locking. A missing file is an empty registry. */
export function readRegistry(home: string, options: RegistryOptions = {}): RegistryData {
  const file = statePaths(home).registry;
  const parsed = parseRegistryFile(file);
  if (parsed.ok) return parsed.data;
  warn(options.onWarning, `the registry ${file} is unreadable (${parsed.reason}); it will be set aside and rebuilt on the next change`);
  return emptyRegistry();
}

/**
 * Read-modify-write under the registry lock. `change` mutates the data it is given; the file is rewritten
 * only when something changed. Returns what `change` returns.
 */
export async function updateRegistry<T>(
  home: string,
  change: (data: RegistryData) => T | Promise<T>,
  options: RegistryOptions = {},
): Promise<T> {
  const paths = statePaths(home);
  mkdirSync(paths.home, { recursive: true, mode: 0o700 });
  const release = await acquireLock(paths.registry);
  try {
    const parsed = parseRegistryFile(paths.registry);
    let data: RegistryData;
    if (parsed.ok) {
      data = parsed.data;
    } else {
      const aside = `${paths.registry}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      renameSync(paths.registry, aside);
      warn(options.onWarning, `the registry was unreadable (${parsed.reason}); moved it to ${aside} and started a new one`);
      data = emptyRegistry();
    }
    removeTempFiles(paths.home);
    const before = JSON.stringify(data);
    const result = await change(data);
    const after = JSON.stringify(data, null, 2);
    if (JSON.stringify(data) !== before) {
      const { default: writeFileAtomic } = await import('write-file-atomic');
      await writeFileAtomic(paths.registry, `${after}\n`, { fsync: true, mode: 0o600 });
    }
    return result;
  } finally {
    await release();
  }
}

/** Temp files of writers killed mid-write (`registry.json.<number>`); under the lock nobody else is writing one. */
function removeTempFiles(home: string): void {
  for (const name of readdirSync(home)) {
    if (/^registry\.json\.\d+$/.test(name)) rmSync(path.join(home, name), { force: true });
  }
}

type Parsed = { ok: true; data: RegistryData } | { ok: false; reason: string };

function parseRegistryFile(file: string): Parsed {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, data: emptyRegistry() };
    return { ok: false, reason: (error as Error).message };
  }
  try {
    const data = JSON.parse(text) as RegistryData;
    if (data?.version !== 1 || typeof data.checkouts !== 'object' || data.checkouts === null) {
      return { ok: false, reason: 'not a portbroker registry' };
    }
    data.aliases ??= {};
    return { ok: true, data };
  } catch (error) {
    return { ok: false, reason: text.trim() === '' ? 'empty file' : `invalid JSON: ${(error as Error).message}` };
  }
}

/** How long a lock may go without its holder refreshing it before another process breaks it. */
const LOCK_STALE_MS = 5_000;

async function acquireLock(file: string): Promise<() => Promise<void>> {
  const { default: lockfile } = await import('proper-lockfile');
  try {
    return await lockfile.lock(file, {
      realpath: false,
      lockfilePath: `${file}.lock`,
      stale: LOCK_STALE_MS,
      update: 1_000,
      retries: { retries: 400, factor: 1.15, minTimeout: 5, maxTimeout: 60, randomize: true },
      onCompromised: (error) => {
        // Another process broke our lock (we stalled past LOCK_STALE_MS): our write may race with theirs.
        process.emitWarning(`portbroker registry lock lost: ${error.message}`);
      },
    });
  } catch (error) {
    throw new PortbrokerError(`cannot lock the registry ${file}: ${(error as Error).message}`, {
      details: [`another portbroker command holds it; if none is running, remove ${file}.lock`],
    });
  }
}

