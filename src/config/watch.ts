import { createHash } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';

/**
 * Watches a config file for saved changes. The folder is watched, not the file: editors save by writing a new
 * file and renaming it over the old one (vim, JetBrains), which ends a watch on the file itself. Events come in
 * bursts (truncate, write, rename) and some saves change nothing: a change is reported once the file has been
 * quiet for a moment and its content differs from the last one reported.
 */

/** How long the file must be quiet before its content is read. */
const SETTLE_MS = 150;

export interface ConfigWatch {
  close(): void;
}

export function watchConfigFile(file: string, onChange: () => void, settleMs = SETTLE_MS): ConfigWatch {
  const name = path.basename(file);
  let last = contentHash(file);
  let timer: NodeJS.Timeout | undefined;
  const settled = () => {
    timer = undefined;
    const now = contentHash(file);
    // Gone for a moment (mid-rename) or unchanged: nothing to apply; the rename's own event follows.
    if (now === undefined || now === last) return;
    last = now;
    onChange();
  };
  // Throws when the folder cannot be watched (inotify watches exhausted): the caller says edits wait for the next `up`.
  const watcher: FSWatcher = watch(path.dirname(file), { persistent: false }, (_event, changed) => {
    if (changed !== null && changed !== name) return;
    clearTimeout(timer);
    timer = setTimeout(settled, settleMs);
  });
  watcher.on('error', () => watcher.close());
  return {
    close() {
      clearTimeout(timer);
      watcher.close();
    },
  };
}

function contentHash(file: string): string | undefined {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return undefined;
  }
}
