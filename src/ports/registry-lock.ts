import { PortbrokerError } from '../errors.js';
import { errnoInWords, fixFor } from '../platform/errno.js';

/**
 * The cross-process lock around a registry read-modify-write (proper-lockfile: a `registry.json.lock` folder
 * whose mtime the holder refreshes every second). A holder that stops refreshing for LOCK_STALE_MS — killed,
 * or paused by Ctrl-Z, a laptop's sleep, a debugger — has its lock broken by the next writer. The library tells
 * the old holder through `onCompromised`; we record it in `lost` instead of letting it throw from a timer, and
 * the writer re-reads and tries again (the registry file's own version check catches the case where the
 * signal comes too late).
 */

export interface RegistryLock {
  /** The lock was broken by another process: our read may be stale. */
  readonly lost: boolean;
  release(): Promise<void>;
}

/** How long a lock may go without its holder refreshing it before another process breaks it. */
const LOCK_STALE_MS = 5_000;

export async function lockRegistry(file: string): Promise<RegistryLock> {
  const { default: lockfile } = await import('proper-lockfile');
  let lost = false;
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(file, {
      realpath: false,
      lockfilePath: `${file}.lock`,
      stale: LOCK_STALE_MS,
      update: 1_000,
      retries: { retries: 400, factor: 1.15, minTimeout: 5, maxTimeout: 60, randomize: true },
      onCompromised: () => {
        lost = true;
      },
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOCKED') {
      throw new PortbrokerError(`cannot lock the registry ${file}: another portbroker command has held it for too long`, {
        details: [`if no portbroker command is running, remove ${file}.lock`],
      });
    }
    throw new PortbrokerError(`cannot lock the registry ${file}: ${errnoInWords(error)}; nothing was changed`, { details: [fixFor(error, `${file}.lock`)] });
  }
  return {
    get lost() {
      return lost;
    },
    async release() {
      try {
        await release();
      } catch (error) {
        // A lock broken by another process is no longer ours to remove.
        if (!lost && (error as NodeJS.ErrnoException).code !== 'ERELEASED') throw error;
      }
    },
  };
}
