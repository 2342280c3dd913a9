import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { commandLine, procPids } from './proc.js';

export interface Listener {
  port: number;
  /** The bound address as printed by tools: 127.0.0.1, ::1, 0.0.0.0, :: … */
  address: string;
  family: 4 | 6;
  pid?: number;
  command?: string;
}

/**
 * Who listens on TCP `port`, on any address. Linux reads /proc/net/tcp{,6} and maps socket inodes to pids
 * through /proc/<pid>/fd; elsewhere it asks lsof. A pid stays undefined when the socket belongs to another
 * user (or the container hides it): the address is still reported.
 */
export function findListeners(port: number): Listener[] {
  if (process.platform === 'linux') return linuxListeners(port);
  return lsofListeners(port);
}

/**
 * Every TCP socket that one of `pids` listens on, any port, any address: what a service really serves on.
 * Linux reads /proc; elsewhere lsof.
 */
export function listenersOf(pids: Iterable<number>): Listener[] {
  const wanted = [...new Set(pids)];
  if (wanted.length === 0) return [];
  if (process.platform !== 'linux') return lsof(['-a', '-p', wanted.join(','), '-iTCP', '-sTCP:LISTEN']);
  const owners = new Map<string, number>();
  for (const pid of wanted) for (const inode of socketInodes(pid)) owners.set(inode, pid);
  if (owners.size === 0) return [];
  return listeningSockets((row) => owners.has(row.inode)).map(({ inode, ...listener }) => ({ ...listener, pid: owners.get(inode) }));
}

const LISTEN = '0A';

function linuxListeners(port: number): Listener[] {
  const found = listeningSockets((row) => row.port === port);
  if (found.length === 0) return [];
  const owners = socketOwners(new Set(found.map((l) => l.inode)));
  return found.map(({ inode, ...listener }) => {
    const pid = owners.get(inode);
    return pid === undefined ? listener : { ...listener, pid, command: commandLine(pid) };
  });
}

/** The listening rows of /proc/net/tcp{,6} that `keep` accepts, with their socket inodes. */
function listeningSockets(keep: (row: { port: number; inode: string }) => boolean): Array<Listener & { inode: string }> {
  const found: Array<Listener & { inode: string }> = [];
  for (const [file, family] of [['/proc/net/tcp', 4], ['/proc/net/tcp6', 6]] as const) {
    let table: string;
    try {
      table = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of table.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== LISTEN) continue;
      const [hexAddr, hexPort] = (cols[1] ?? '').split(':');
      const row = { port: parseInt(hexPort ?? '', 16), inode: cols[9] ?? '' };
      if (keep(row)) found.push({ ...row, address: decodeAddress(hexAddr ?? '', family), family });
    }
  }
  return found;
}

/** The inodes of the sockets process `pid` holds open (none when it is gone or not ours to read). */
function socketInodes(pid: number): string[] {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  const inodes: string[] = [];
  for (const fd of fds) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (match) inodes.push(match[1]!);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

/** /proc/net/tcp stores addresses as little-endian 32-bit words. */
function decodeAddress(hex: string, family: 4 | 6): string {
  if (family === 4) {
    const bytes = Buffer.from(hex, 'hex').reverse();
    return Array.from(bytes).join('.');
  }
  const words: Buffer[] = [];
  for (let i = 0; i < 32; i += 8) words.push(Buffer.from(hex.slice(i, i + 8), 'hex').reverse());
  const bytes = Buffer.concat(words);
  if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return `::ffff:${Array.from(bytes.subarray(12)).join('.')}`;
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return compressIPv6(groups);
}

function compressIPv6(groups: string[]): string {
  // Replace the longest run of zero groups with '::' (RFC 5952).
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  const head = groups.slice(0, bestStart).join(':');
  const tail = groups.slice(bestStart + bestLen).join(':');
  return `${head}::${tail}`;
}

function socketOwners(inodes: Set<string>): Map<string, number> {
  const owners = new Map<string, number>();
  for (const pid of procPids()) {
    for (const inode of socketInodes(pid)) if (inodes.has(inode) && !owners.has(inode)) owners.set(inode, pid);
    if (owners.size === inodes.size) break;
  }
  return owners;
}

function lsofListeners(port: number): Listener[] {
  return lsof([`-iTCP:${port}`, '-sTCP:LISTEN']);
}

/** Listening sockets as lsof reports them for `selection` (its filter arguments). */
function lsof(selection: string[]): Listener[] {
  let out: string;
  try {
    out = execFileSync('lsof', ['-nP', ...selection, '-FpcnT'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return []; // lsof exits 1 when nothing matches
  }
  const listeners: Listener[] = [];
  let pid: number | undefined;
  let command: string | undefined;
  for (const line of out.split('\n')) {
    const tag = line[0];
    const value = line.slice(1);
    if (tag === 'p') pid = Number(value);
    else if (tag === 'c') command = value;
    else if (tag === 'n') {
      const colon = value.lastIndexOf(':');
      const address = value.slice(0, colon).replace(/^\[|\]$/g, '');
      const port = Number(value.slice(colon + 1));
      const family = address.includes(':') ? 6 : 4;
      listeners.push({ port, address: address === '*' ? (family === 6 ? '::' : '0.0.0.0') : address, family, pid, command });
    }
  }
  return listeners;
}

/** An address as it goes before `:port`: IPv6 in brackets (`[::1]`), IPv4 as it is. */
export function formatAddress(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/** A one-line description such as `pid 4242 (node server.js) on 127.0.0.1`, for error messages. */
export function describeListeners(listeners: Listener[]): string {
  // One entry per process, with each address it listens on: `pid 12 (node x) on 127.0.0.1 and ::1`.
  const byProcess = new Map<string, string[]>();
  for (const l of listeners) {
    const who = l.pid ? `pid ${l.pid} (${l.command ?? '?'})` : 'an unknown process';
    const addresses = byProcess.get(who) ?? [];
    if (!addresses.includes(l.address)) addresses.push(l.address);
    byProcess.set(who, addresses);
  }
  return [...byProcess].map(([who, addresses]) => `${who} on ${addresses.join(' and ')}`).join(', ');
}
