import { readFileSync } from 'node:fs';

/**
 * Whether portbroker's own files changed since this process started. The proxy daemon loads parts of itself late
 * (the dashboard on its first request, the log reader thread on the first follow, the service actions on the
 * first button, the certificate issuer for a new name): after a rebuild or an upgrade those would be another
 * build's code next to its own. Each build writes a new id to `dist/build-id` (package.json's postbuild); its
 * content is compared, not its file's times, which an upgrade may keep (npm's fixed mtimes, pnpm's hard links).
 * This module is imported at start (by the proxy's server), so the id it holds is the running build's.
 */
const ID_FILE = new URL('../build-id', import.meta.url);
const AT_START = buildId();

function buildId(): string {
  try {
    return readFileSync(ID_FILE, 'utf8');
  } catch {
    return ''; // run from the sources (the tests), or built by tsc alone: no id to compare
  }
}

/** How to restart the proxy daemon, for every message that asks for it. */
export const RESTART_PROXY = 'portbroker proxy stop, then portbroker up or portbroker proxy start';

/** Why the running proxy must not load more of itself (its build was replaced), or undefined. */
export function buildChange(): string | undefined {
  if (buildId() === AT_START) return undefined;
  return `portbroker was rebuilt or upgraded since this proxy started (pid ${process.pid}): restart it (${RESTART_PROXY})`;
}

/** A later part of the build refused because the build was replaced (restarting the proxy helps). */
export class BuildChanged extends Error {}

/** `load` (an import of more of this build) once, refused when the build was replaced before it was needed. */
export function laterPartOfThisBuild<T>(load: () => Promise<T>): () => Promise<T> {
  let loaded: Promise<T> | undefined;
  return () => {
    if (loaded) return loaded;
    const changed = buildChange();
    if (changed) return Promise.reject(new BuildChanged(changed));
    return (loaded = load());
  };
}
