import { createHash } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { bundledInputs } from './module-loader.js';

/**
 * Watches a config file, and the local files it imports, for saved changes. Folders are watched, not files:
 * editors save by writing a new file and renaming it over the old one (vim, JetBrains), which ends a watch on the
 * file itself. Events come in bursts (truncate, write, rename) and some saves change nothing: a change is
 * reported once the files have been quiet for a moment and one's content differs from when it was last reported.
 */

/** How long the files must be quiet before their content is read. */
const SETTLE_MS = 150;

export interface ConfigWatch {
  close(): void;
}

/** The config file and the local files it imports (known once it was loaded: the bundle cache lists them). */
export function configFiles(file: string, cacheDir: string): string[] {
  return [file, ...bundledInputs(file, cacheDir)];
}

/** The content of each file as it is now, to compare with later. */
export type Fingerprint = Map<string, string | undefined>;

export function fingerprint(files: string[]): Fingerprint {
  return new Map(files.map((file) => [file, contentHash(file)]));
}

/**
 * Calls `onChange` when a file's content differs from `since` (default: now). A change made before the watch
 * began (while the services started) is reported at once.
 * Throws when a folder cannot be watched (inotify watches exhausted): the caller says edits wait for the next `up`.
 */
export function watchConfigFiles(files: string[], onChange: () => void, since?: Fingerprint, settleMs = SETTLE_MS): ConfigWatch {
  const last = new Map(files.map((file) => [file, since?.has(file) ? since.get(file) : contentHash(file)]));
  let timer: NodeJS.Timeout | undefined;
  const settled = () => {
    timer = undefined;
    let changed = false;
    for (const file of files) {
      const now = contentHash(file);
      // Gone for a moment (mid-rename) or unchanged: nothing to apply; the rename's own event follows.
      if (now === undefined || now === last.get(file)) continue;
      last.set(file, now);
      changed = true;
    }
    if (changed) onChange();
  };
  const watchers: FSWatcher[] = [];
  const close = () => {
    clearTimeout(timer);
    for (const watcher of watchers) watcher.close();
  };
  const byFolder = new Map<string, Set<string>>();
  for (const file of files) {
    const names = byFolder.get(path.dirname(file)) ?? new Set<string>();
    names.add(path.basename(file));
    byFolder.set(path.dirname(file), names);
  }
  try {
    for (const [folder, names] of byFolder) {
      const watcher = watch(folder, { persistent: false }, (_event, name) => {
        if (name !== null && !names.has(name)) return;
        clearTimeout(timer);
        timer = setTimeout(settled, settleMs);
      });
      watcher.on('error', () => watcher.close());
      watchers.push(watcher);
    }
  } catch (error) {
    close();
    throw error;
  }
  if (since) timer = setTimeout(settled, 0);
  return { close };
}

function contentHash(file: string): string | undefined {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return undefined;
  }
}
