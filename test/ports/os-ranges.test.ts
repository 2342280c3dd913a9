import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { preferredPort, serviceKey } from '../../src/ports/allocator.js';
import { CLI, fixture } from '../helpers/cli.js';

/**
 * Teammates on Linux, macOS and Windows get the same ports for the same config. Each OS's default ephemeral range
 * is set for real, in a network namespace of its own (ip_local_port_range is per namespace), and the real CLI
 * reserves the ports there. Needs root and iproute2 (.ci/run installs it); skipped with a warning elsewhere,
 * never in CI.
 */
const canNetns = (() => {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const skip = !canNetns && !process.env.CI;
if (skip) console.warn('skipping the OS-range test: it needs root and iproute2 (ip netns)');

const RANGES = {
  linux: '32768 60999',
  macos: '49152 65535',
  windows: '49152 65535',
  // A machine whose ephemeral range is exactly the preferred band: its ports are skipped only when taken.
  custom: '61000 65535',
};

const SERVICES = ['web', 'api', 'docs', 'admin', 'storybook', 'db'];

function namespaceWithRange(range: string): string {
  const name = `pb-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  execFileSync('ip', ['netns', 'add', name]);
  onTestFinished(() => {
    execFileSync('ip', ['netns', 'del', name]);
  });
  execFileSync('ip', ['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
  execFileSync('ip', ['netns', 'exec', name, 'sysctl', '-q', '-w', `net.ipv4.ip_local_port_range=${range}`]);
  const seen = execFileSync('ip', ['netns', 'exec', name, 'cat', '/proc/sys/net/ipv4/ip_local_port_range'], { encoding: 'utf8' });
  expect(seen.trim().split(/\s+/).join(' ')).toBe(range);
  return name;
}

describe.skipIf(skip)('same ports on every OS', () => {
  it('reserves the same ports under the Linux, macOS and Windows default ephemeral ranges', async () => {
    const fx = await fixture({
      'portbroker.config.json': JSON.stringify({ name: 'acme', services: Object.fromEntries(SERVICES.map((s) => [s, {}])) }),
    });
    const byOs: Record<string, Record<string, number>> = {};
    for (const [osName, range] of Object.entries(RANGES)) {
      const ns = namespaceWithRange(range);
      // A state folder per "machine": nothing reserved yet.
      const home = mkdtempSync(path.join(os.tmpdir(), 'pb-home-'));
      onTestFinished(() => rmSync(home, { recursive: true, force: true }));
      const out = execFileSync('ip', ['netns', 'exec', ns, process.execPath, CLI, 'ls', '--json'], {
        cwd: fx.root,
        env: { ...process.env, ...fx.env, PORTBROKER_HOME: home },
        encoding: 'utf8',
      });
      const rows = JSON.parse(out) as Array<{ service: string; port: number }>;
      byOs[osName] = Object.fromEntries(rows.map((r) => [r.service, r.port]));
    }
    expect(byOs.macos).toEqual(byOs.linux);
    expect(byOs.windows).toEqual(byOs.linux);
    expect(byOs.custom).toEqual(byOs.linux);
    // Nothing listens in a fresh namespace: every service got its hashed port in the band 61000-65535.
    for (const s of SERVICES) {
      const port = byOs.linux![s]!;
      expect(port).toBeGreaterThanOrEqual(61000);
      expect(port).toBe(preferredPort(serviceKey('acme', '', s), [49152, 65535]));
    }
  });
});
