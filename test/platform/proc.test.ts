import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { acceptsConnections } from '../../src/platform/loopback.js';
import { hasEnded, isAlive, readStat } from '../../src/platform/proc.js';
import { until } from '../runner/helpers.js';

/**
 * A process whose main thread ends first shows `Z` in /proc while its other threads still run and hold its files:
 * a port it listens on still answers (a Node server told to exit is such a zombie for a moment). Python's main
 * thread leaves here with pthread_exit while another thread waits for stdin, so the moment lasts until the test
 * closes stdin.
 */
const LEADER_LEAVES_FIRST = `
import ctypes, socket, sys, threading
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()
print(s.getsockname()[1], flush=True)
threading.Thread(target=sys.stdin.read).start()
ctypes.CDLL(None).pthread_exit(None)
`;

describe('hasEnded', () => {
  // Where PID 1 does not reap, a zombie stays listed: the rule itself, which the test below cannot reach (Node
  // reaps its own child, so an ended one is simply gone).
  it('counts a zombie as ended once it has one thread left, and an X always', () => {
    expect(hasEnded({ state: 'Z', threads: 1 })).toBe(true);
    expect(hasEnded({ state: 'Z', threads: 3 })).toBe(false);
    expect(hasEnded({ state: 'X', threads: 0 })).toBe(true);
    expect(hasEnded({ state: 'S', threads: 1 })).toBe(false);
  });
});

describe.skipIf(process.platform !== 'linux' || !existsSync('/usr/bin/python3'))('isAlive', () => {
  it('a zombie leader whose other threads still hold its listening socket is alive; once they end, it is not', async () => {
    const child = spawn('/usr/bin/python3', ['-c', LEADER_LEAVES_FIRST], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const [first] = (await once(child.stdout!, 'data')) as [Buffer];
      const port = Number(first.toString().trim());
      const pid = child.pid!;
      await until(() => readStat(pid)?.state === 'Z', 'the main thread gone');
      expect(readStat(pid)!.threads).toBeGreaterThan(1);
      expect(await acceptsConnections(port)).toBe(true);
      expect(isAlive(pid)).toBe(true);

      child.stdin!.end();
      await until(() => !isAlive(pid), 'the last thread gone');
      expect(await acceptsConnections(port)).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
