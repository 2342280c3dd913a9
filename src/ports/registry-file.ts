import { closeSync, fstatSync, fsyncSync, linkSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { PortbrokerError } from '../errors.js';
import { errnoInWords, fixFor } from '../platform/errno.js';
import { isAlive } from '../platform/proc.js';
import { checkRegistry } from './registry-entries.js';
import type { RegistryData } from './registry.js';

/**
 * registry.json on disk. Every version is a new file renamed into place, so a reader sees one version whole and
 * a version's identity (device, inode, size, mtime in ns) names it. A write says which version it replaces and
 * is refused when the file on disk is another one: that is what makes a write from a process that was paused
 * past its lock (and had it broken) fail instead of silently overwriting what others wrote meanwhile. The
 * version replaced is kept as registry.json.bak (a hard link, no copy), so one bad write can be undone.
 */

export interface Loaded {
  data: RegistryData;
  /** The version read; undefined when there was no file. */
  identity: string | undefined;
  /** Entries dropped because their shape was wrong. */
  dropped: string[];
}

export type ReadResult = ({ ok: true } & Loaded) | { ok: false; reason: string; identity: string };

export function emptyRegistry(): RegistryData {
  return { version: 1, checkouts: {}, aliases: {} };
}

/**
 * Reads and checks the file. Only content that does not parse (or is not a registry at all) is `ok: false`;
 * a file that cannot be read (EACCES, EMFILE, EIO…) throws with the errno and the fix, so nothing is ever
 * set aside or rebuilt because of a passing fault.
 */
export function readRegistryFile(file: string): ReadResult {
  let text: string;
  let identity: string;
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, data: emptyRegistry(), identity: undefined, dropped: [] };
    throw readError(file, error);
  }
  try {
    identity = identityOf(fstatSync(fd, { bigint: true }));
    text = readFileSync(fd, 'utf8');
  } catch (error) {
    throw readError(file, error);
  } finally {
    closeSync(fd);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return { ok: false, identity, reason: text.trim() === '' ? 'empty file' : `invalid JSON: ${(error as Error).message}` };
  }
  const checked = checkRegistry(raw);
  if (!checked.ok) return { ok: false, identity, reason: checked.reason };
  return { ok: true, data: checked.data, identity, dropped: checked.dropped };
}

/** registry.json.bak, when it holds a usable registry. */
export function readBackup(file: string): Loaded | undefined {
  try {
    const backup = readRegistryFile(backupOf(file));
    return backup.ok && backup.identity !== undefined ? backup : undefined;
  } catch {
    return undefined;
  }
}

/** Moves an unparseable registry out of the way (kept for inspection) and returns where it went. */
export function setAside(file: string): string {
  const aside = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  try {
    renameSync(file, aside);
  } catch (error) {
    throw new PortbrokerError(`cannot set the unreadable registry ${file} aside: ${errnoInWords(error)}`, { details: [fixFor(error, file)] });
  }
  return aside;
}

/** Another process replaced the registry after we read it: our copy is stale and must not be written. */
export class RegistryChanged extends Error {
  constructor() {
    super('the registry changed after it was read');
    this.name = 'RegistryChanged';
  }
}

let tempCounter = 0;

/**
 * Writes `data` as the version after `expected` (temp file, fsync, rename, fsync of the folder). Throws
 * RegistryChanged, leaving everything as it was, when the file on disk is no longer `expected`. The check and
 * the rename are adjacent synchronous calls: nothing of ours runs between them.
 */
export function writeRegistryFile(file: string, data: RegistryData, expected: string | undefined): void {
  const tmp = `${file}.tmp-${process.pid}-${++tempCounter}`;
  let claim: string | undefined;
  try {
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(data, null, 2)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    claim = claimGeneration(file, data.generation ?? 0);
    if (expected !== undefined) keepBackup(file);
    if (currentIdentity(file) !== expected) throw new RegistryChanged();
    try {
      renameSync(tmp, file);
    } catch (error) {
      // Our temp file was cleaned up by a writer that took over the lock while we were paused.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new RegistryChanged();
      throw error;
    }
  } catch (error) {
    rmSync(tmp, { force: true });
    if (claim) rmSync(claim, { force: true });
    if (error instanceof RegistryChanged) throw error;
    throw new PortbrokerError(`cannot write the registry ${file}: ${errnoInWords(error)}; nothing was changed`, { details: [fixFor(error, path.dirname(file))] });
  }
  syncFolder(path.dirname(file));
  rmSync(claim, { force: true });
}

/**
 * Claims the right to write generation `generation` with an exclusive create, the one step two writers cannot
 * both pass. The lock alone is not enough: a holder starved past the stale time (a loaded machine, a pause) has
 * its lock broken while it still runs, and then two writers could both pass the identity check before either
 * renames. Every write is the generation after the one it read, so of two writers that read the same version
 * only one gets the claim; the other re-reads. A claim whose writer died is taken over.
 */
function claimGeneration(file: string, generation: number): string {
  const claim = `${file}.gen-${generation}`;
  for (let tries = 0; tries < 2; tries++) {
    try {
      const fd = openSync(claim, 'wx', 0o600);
      try {
        writeSync(fd, String(process.pid));
      } finally {
        closeSync(fd);
      }
      return claim;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (!claimAbandoned(claim)) throw new RegistryChanged();
      rmSync(claim, { force: true });
    }
  }
  throw new RegistryChanged();
}

/** A claim left by a writer that died between its claim and its rename (or before it wrote its pid). */
function claimAbandoned(claim: string): boolean {
  try {
    const pid = Number(readFileSync(claim, 'utf8'));
    if (Number.isInteger(pid) && pid > 0) return !isAlive(pid);
    return Date.now() - statSync(claim).mtimeMs > 5_000;
  } catch {
    return false; // gone meanwhile: its writer finished; re-read
  }
}

/** Temp files of writers killed mid-write; called under the lock, when nobody else is writing one. */
export function removeTempFiles(file: string): void {
  const dir = path.dirname(file);
  const base = path.basename(file);
  for (const name of readdirSync(dir)) {
    if (name.startsWith(`${base}.`) && /\.(tmp-\d+-\d+|\d+|bak\.tmp-\d+)$/.test(name)) rmSync(path.join(dir, name), { force: true });
  }
}

function backupOf(file: string): string {
  return `${file}.bak`;
}

/** The version about to be replaced becomes registry.json.bak (a second name for the same file). */
function keepBackup(file: string): void {
  const tmp = `${backupOf(file)}.tmp-${process.pid}`;
  rmSync(tmp, { force: true });
  try {
    linkSync(file, tmp);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // replaced meanwhile: the check below says so
    throw error;
  }
  renameSync(tmp, backupOf(file));
}

/** The file as it is now (device, inode, size, change time), as the writer compares it; undefined when missing. */
export function currentIdentity(file: string): string | undefined {
  try {
    return identityOf(statSync(file, { bigint: true }));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function identityOf(st: { dev: bigint; ino: bigint; size: bigint; mtimeNs: bigint }): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
}

function syncFolder(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Not every file system lets a folder be fsynced; the rename is done either way.
  }
}

function readError(file: string, error: unknown): PortbrokerError {
  return new PortbrokerError(`cannot read the registry ${file}: ${errnoInWords(error)}; nothing was changed`, { details: [fixFor(error, file)] });
}
