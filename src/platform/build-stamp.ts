import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Whether portbroker's own files changed since this process started. The proxy daemon loads parts of itself late
 * (the dashboard on its first request, the log reader thread on the first follow, the service actions on the
 * first button): after a rebuild or an upgrade those would be another build's code next to its own. This module's
 * file stands for the whole build: a build rewrites every file, an upgrade replaces them. It is imported at start
 * (by the proxy's server), so its stamp is the running build's.
 */
const FILE = fileURLToPath(import.meta.url);
const AT_START = stamp();

function stamp(): string {
  try {
    const st = statSync(FILE, { bigint: true });
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
  } catch {
    return 'gone'; // removed (an uninstall): no later part can be loaded either
  }
}

/** Why the running proxy must not load more of itself (its build was replaced), or undefined. */
export function buildChange(): string | undefined {
  if (stamp() === AT_START) return undefined;
  return `portbroker was rebuilt or upgraded since this proxy started (pid ${process.pid}): restart it (portbroker proxy stop, then portbroker up)`;
}
