import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { PortRange } from '../platform/ephemeral.js';
import { DEFAULTS } from '../config/project-config.js';
import { BAD_PORTS } from './bad-ports.js';

const DEFAULT_RANGE = DEFAULTS.range;

/**
 * Stable port choice. A service's preferred port is a hash of (project, checkout label, service) into a fixed
 * preferred band, so the same config gives the same port on every machine, whatever its OS; on a conflict the
 * search moves on to the next port, and after the band through the rest of the range.
 *
 * The band is not read from the local OS: Linux hands out ephemeral ports from 32768-60999, macOS and Windows
 * from 49152-65535, and a band cut to fit each would give a Mac and a Linux teammate different ports. With the
 * default range it is 61000-65535 (clear of Linux's ephemeral range; on macOS and Windows an outgoing connection
 * may hold one of its ports now and then, which the probe sees as a conflict like any other). A customised range
 * is the band in full: the user chose it.
 */

export const PREFERRED_BAND: PortRange = [61000, 65535];

/** The ports tried first for a range: 61000-65535 for the default range, a customised range whole. */
export function preferredBand(range: PortRange): PortRange {
  const [lo, hi] = range;
  return lo === DEFAULT_RANGE[0] && hi === DEFAULT_RANGE[1] ? PREFERRED_BAND : range;
}

export interface AllocatorOptions {
  range: PortRange;
  /** Ports never handed out: other reservations, the proxy port. */
  exclude: ReadonlySet<number>;
  /** Whether nothing listens on the port, on any address; default probes with get-port. */
  isFree?: (port: number) => Promise<boolean>;
}

export interface PortRequest {
  /** Stable identity, e.g. `acme\0\0web`. */
  key: string;
}

/** The stable key of a service within a checkout. */
export function serviceKey(project: string, label: string, service: string): string {
  return `${project}\0${label}\0${service}`;
}

/**
 * Ports in the order they are tried for `key`: from the hashed position onward through the preferred band
 * (within the range), wrapping, then the same through the rest of the range.
 */
export function* candidatePorts(key: string, range: PortRange, band: PortRange = preferredBand(range)): Generator<number> {
  const all = { lo: range[0], hi: range[1] };
  const preferred = inside(all, { lo: band[0], hi: band[1] });
  const rest = preferred.length > 0 ? outside(all, preferred[0]!) : [all];
  const h = hashToInt(key);
  yield* walk(preferred, size(preferred), h);
  yield* walk(rest, size(rest), h);
}

/** The first port `candidatePorts` would try: what a service gets when nothing is in the way. */
export function preferredPort(key: string, range: PortRange): number {
  return candidatePorts(key, range).next().value as number;
}

/**
 * Picks a port per key, in the order given (callers sort, so teammates resolve collisions the same way).
 * Skips excluded and browser-refused ports and ports chosen earlier in the same call; probes the rest.
 */
export async function allocatePorts(requests: PortRequest[], options: AllocatorOptions): Promise<Map<string, number>> {
  const probe = options.isFree ?? (await defaultProbe());
  const usable = (port: number, taken: ReadonlySet<number>) => !taken.has(port) && !BAD_PORTS.has(port);

  // Probing is the slow part (a bind per local address per port). Guess each request's port assuming no
  // conflicts and probe all guesses at once; the exact pass below then mostly reads answers already known.
  const known = new Map<number, Promise<boolean>>();
  const isFree = (port: number) => {
    let answer = known.get(port);
    if (!answer) known.set(port, (answer = probe(port)));
    return answer;
  };
  const guessed = new Set(options.exclude);
  const guesses: number[] = [];
  for (const { key } of requests) {
    for (const port of candidatePorts(key, options.range)) {
      if (!usable(port, guessed)) continue;
      guessed.add(port);
      guesses.push(port);
      break;
    }
  }
  await inBatches(guesses, PROBE_CONCURRENCY, isFree);

  const taken = new Set(options.exclude);
  const result = new Map<string, number>();
  for (const { key } of requests) {
    let chosen: number | undefined;
    for (const port of candidatePorts(key, options.range)) {
      if (usable(port, taken) && (await isFree(port))) {
        chosen = port;
        break;
      }
    }
    if (chosen === undefined) throw new Error(`no free port left in ${options.range[0]}-${options.range[1]}`);
    taken.add(chosen);
    result.set(key, chosen);
  }
  return result;
}

const PROBE_CONCURRENCY = 64;

async function inBatches<T>(items: T[], size: number, task: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
}

/**
 * A probe that says whether nothing listens on a port, on any local address. get-port's default checks the
 * default host, 0.0.0.0 and every interface address (::1 included): seven binds per port here. On Linux with
 * dual-stack sockets, one bind on `::` conflicts with a listener on any address of either family (measured
 * here for 127.0.0.1, ::1, 0.0.0.0, :: and the interface addresses; the loopback cases are in
 * test/ports/allocator.test.ts), so get-port is asked for just that host: same answer, a seventh of the cost.
 */
export async function defaultProbe(): Promise<(port: number) => Promise<boolean>> {
  const { default: getPort, clearLockedPorts } = await import('get-port');
  const host = dualStack() ? '::' : undefined;
  return async (port) => {
    // get-port remembers ports it returned for 15 s and then calls them busy; our registry is the lock, so
    // every probe must be a fresh look.
    clearLockedPorts();
    try {
      // It falls back to a random port when the one asked for is busy: only an exact answer means free.
      return (await getPort(host ? { port, host } : { port })) === port;
    } catch {
      return false;
    }
  };
}

let dualStackAnswer: boolean | undefined;

function dualStack(): boolean {
  if (dualStackAnswer !== undefined) return dualStackAnswer;
  dualStackAnswer = false;
  if (process.platform !== 'linux') return false;
  try {
    const v6only = readFileSync('/proc/sys/net/ipv6/bindv6only', 'utf8').trim();
    const hasV6 = Object.values(networkInterfaces()).some((list) => list?.some((i) => i.family === 'IPv6'));
    dualStackAnswer = v6only === '0' && hasV6;
  } catch {
    // no IPv6 in this kernel: probe every host
  }
  return dualStackAnswer;
}

interface Segment {
  lo: number;
  hi: number;
}

function outside(range: Segment, cut: Segment): Segment[] {
  const parts: Segment[] = [];
  if (range.lo < cut.lo) parts.push({ lo: range.lo, hi: Math.min(range.hi, cut.lo - 1) });
  if (range.hi > cut.hi) parts.push({ lo: Math.max(range.lo, cut.hi + 1), hi: range.hi });
  return parts.filter((p) => p.lo <= p.hi);
}

function inside(range: Segment, cut: Segment): Segment[] {
  const lo = Math.max(range.lo, cut.lo);
  const hi = Math.min(range.hi, cut.hi);
  return lo <= hi ? [{ lo, hi }] : [];
}

function size(segments: Segment[]): number {
  return segments.reduce((n, s) => n + s.hi - s.lo + 1, 0);
}

/** Visits every port of the segments once, starting at offset `h mod size`. */
function* walk(segments: Segment[], size: number, h: number): Generator<number> {
  if (size === 0) return;
  const start = h % size;
  for (let i = 0; i < size; i++) {
    let offset = (start + i) % size;
    for (const s of segments) {
      const len = s.hi - s.lo + 1;
      if (offset < len) {
        yield s.lo + offset;
        break;
      }
      offset -= len;
    }
  }
}

function hashToInt(key: string): number {
  // 48 bits stay exact in a double and spread well over any port range.
  return createHash('sha256').update(key).digest().readUIntBE(0, 6);
}
