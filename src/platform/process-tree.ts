import { hasEnded, procPids, readStat, type ProcStat } from './proc.js';

/**
 * Process trees, from /proc: a service is its process group (each runs in its own) plus every descendant that
 * left the group (setsid) while its parent lives. One pass over /proc answers for every root at once.
 */

export interface TreeMember {
  pid: number;
  stat: ProcStat;
}

/** Every live process (zombies left out), from one pass over /proc; undefined where there is no /proc. */
export function processTable(): Map<number, ProcStat> | undefined {
  return process.platform === 'linux' ? new Map(liveProcesses()) : undefined;
}

/** The pass itself, one process at a time. */
function* liveProcesses(): Generator<[number, ProcStat]> {
  for (const pid of procPids()) {
    const stat = readStat(pid);
    if (stat && !hasEnded(stat)) yield [pid, stat];
  }
}

/**
 * `processTable()` read a slice at a time, the event loop served between slices: the dashboard reads it on every
 * update, and /proc answers in tens of µs per process (20 ms in one piece on a machine with 400 processes).
 */
export async function processTableInSlices(slice = 25): Promise<Map<number, ProcStat> | undefined> {
  if (process.platform !== 'linux') return undefined;
  const table = new Map<number, ProcStat>();
  for (const [pid, stat] of liveProcesses()) {
    table.set(pid, stat);
    if (table.size % slice === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  return table;
}

/**
 * Each root's live tree (a root whose group has no live member is left out); empty where there is no /proc.
 * `table`: a `processTable()` the caller already read (each read of /proc/<pid>/stat costs tens of µs).
 */
export function processTrees(roots: Iterable<number>, table?: Map<number, ProcStat>): Map<number, TreeMember[]> {
  const wanted = new Set(roots);
  const result = new Map<number, TreeMember[]>();
  if (wanted.size === 0 || process.platform !== 'linux') return result;
  const stats = table ?? processTable()!;
  const children = new Map<number, number[]>();
  for (const [pid, stat] of stats) {
    const siblings = children.get(stat.ppid);
    if (siblings) siblings.push(pid);
    else children.set(stat.ppid, [pid]);
  }
  const byGroup = new Map<number, number[]>();
  for (const [pid, stat] of stats) {
    if (!wanted.has(stat.pgid)) continue;
    const members = byGroup.get(stat.pgid);
    if (members) members.push(pid);
    else byGroup.set(stat.pgid, [pid]);
  }
  for (const root of wanted) {
    const tree = new Set<number>(byGroup.get(root) ?? []);
    if (stats.has(root)) tree.add(root);
    if (tree.size === 0) continue;
    for (const pid of tree) for (const child of children.get(pid) ?? []) tree.add(child); // a Set iterates what is added
    result.set(root, [...tree].map((pid) => ({ pid, stat: stats.get(pid)! })));
  }
  return result;
}

/** The pids of the trees of `roots` together. */
export function treePids(roots: Iterable<number>): number[] {
  return [...processTrees(roots).values()].flat().map((m) => m.pid);
}
