import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export type PortRange = readonly [lo: number, hi: number];

/**
 * The range the OS picks outgoing (ephemeral) ports from. A dev server whose port lies inside it can find the
 * port taken by some random outgoing connection, so the allocator prefers ports outside it.
 */
export function ephemeralRange(): PortRange | undefined {
  if (process.platform === 'linux') {
    try {
      const [lo, hi] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
      if (lo && hi) return [lo, hi];
    } catch {
      return [32768, 60999];
    }
  }
  if (process.platform === 'darwin' || process.platform === 'freebsd') {
    try {
      const out = execFileSync('sysctl', ['-n', 'net.inet.ip.portrange.first', 'net.inet.ip.portrange.last'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      const [lo, hi] = out.trim().split(/\s+/).map(Number);
      if (lo && hi) return [lo, hi];
    } catch {
      // fall through to the IANA default
    }
  }
  return [49152, 65535];
}
