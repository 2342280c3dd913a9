import { readFileSync } from 'node:fs';
import { TICKS_PER_SECOND, type ProcStat } from './proc.js';
import { processTrees } from './process-tree.js';

/**
 * CPU and memory of whole process trees (see `processTrees`): a dev server is often a shell, `npm`, and the
 * server itself (and its workers), so one pid's figures would show the shell. CPU is a rate, so
 * the sampler remembers the last reading of each tree and answers with the share of one core since then.
 */

export interface TreeUsage {
  /** Percent of one core since the previous sample (null on the first). */
  cpuPercent: number | null;
  memoryBytes: number;
  processes: number;
  /** When the root process started. */
  startedAt: Date | null;
}


/** Readings closer together than this keep the previous rate: a few ticks over a few ms say nothing. */
const MIN_INTERVAL_MS = 500;
/** A tree not asked about for this long is forgotten. */
const FORGET_MS = 60_000;

export class ProcessUsageSampler {
  private last = new Map<number, { ticks: number; at: number; cpuPercent: number | null }>();

  /** One pass over /proc for every root at once (or `table`, one the caller read); a root that is gone is left out. */
  sample(roots: Iterable<number>, table?: Map<number, ProcStat>): Map<number, TreeUsage> {
    const wanted = new Set(roots);
    const result = new Map<number, TreeUsage>();
    if (wanted.size === 0 || process.platform !== 'linux') return result;
    const now = Date.now();
    const boot = bootTime();
    for (const [root, tree] of processTrees(wanted, table)) {
      let ticks = 0;
      let pages = 0;
      for (const { stat } of tree) {
        ticks += stat.cpuTicks;
        pages += stat.rssPages;
      }
      const before = this.last.get(root);
      let cpuPercent = before?.cpuPercent ?? null;
      if (!before || now - before.at >= MIN_INTERVAL_MS) {
        const seconds = before ? (now - before.at) / 1000 : 0;
        // Fewer ticks than before: the pid now names another process (or a child left the tree).
        cpuPercent = before && ticks >= before.ticks ? round1(((ticks - before.ticks) / TICKS_PER_SECOND / seconds) * 100) : null;
        this.last.set(root, { ticks, at: now, cpuPercent });
      }
      const rootStat = tree.find((m) => m.pid === root)?.stat;
      result.set(root, {
        cpuPercent,
        memoryBytes: pages * pageSize(),
        processes: tree.length,
        startedAt: rootStat && boot ? new Date(boot + (rootStat.startTicks / TICKS_PER_SECOND) * 1000) : null,
      });
    }
    for (const [root, reading] of this.last) if (now - reading.at > FORGET_MS) this.last.delete(root);
    return result;
  }
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

let cachedPageSize: number | undefined;

/** The kernel's page size (4 KiB on most machines, 16 or 64 KiB on some ARM kernels). */
function pageSize(): number {
  if (cachedPageSize === undefined) {
    try {
      const match = /KernelPageSize:\s+(\d+) kB/.exec(readFileSync('/proc/self/smaps', 'utf8'));
      cachedPageSize = match ? Number(match[1]) * 1024 : 4096;
    } catch {
      cachedPageSize = 4096;
    }
  }
  return cachedPageSize;
}

let cachedBoot: number | null | undefined;

/** When the machine booted (ms since the epoch), from `btime` in /proc/stat. */
function bootTime(): number | null {
  if (cachedBoot === undefined) {
    try {
      const match = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
      cachedBoot = match ? Number(match[1]) * 1000 : null;
    } catch {
      cachedBoot = null;
    }
  }
  return cachedBoot;
}
