// Helpers shared by the benchmarks.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** A port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The median of the numbers in a list (nulls and NaN skipped); null when there are none. */
export function median(values) {
  const sorted = values.filter((v) => v !== null && !Number.isNaN(v)).sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)] : null;
}

/**
 * A temp folder for one benchmark run and the cleanups of what it starts: `cleanup()` runs them last-first
 * (best effort) and removes the folder; Ctrl-C and SIGTERM run it too.
 */
export function benchRun(prefix) {
  const work = mkdtempSync(path.join(os.tmpdir(), prefix));
  const cleanups = [];
  const cleanup = () => {
    for (const fn of cleanups.reverse()) {
      try {
        fn();
      } catch {
        // best effort
      }
    }
    rmSync(work, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => (cleanup(), process.exit(130)));
  return { work, cleanups, cleanup };
}

/**
 * Records one running service, `web` of project `bench`, on `upstreamPort` in a fresh state folder: the route a
 * proxy under benchmark serves as `web.bench.localhost`. `dist` is the build whose registry format to write.
 */
export async function seedBenchRoute(dist, home, upstreamPort, upstreamPid) {
  const { updateRegistry } = await import(pathToFileURL(path.join(dist, 'ports', 'registry.js')).href);
  await updateRegistry(home, (data) => {
    data.checkouts['/bench'] = {
      project: 'bench',
      label: '',
      root: '/bench',
      services: { web: { port: upstreamPort, proxy: true, hostnames: [], state: 'running', pid: upstreamPid, reservedAt: new Date().toISOString() } },
    };
  });
}
