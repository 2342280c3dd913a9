import { describe, expect, it } from 'vitest';
import { acceptsConnections } from '../../src/platform/loopback.js';
import { fixture, freePort } from '../helpers/cli.js';
import { config, serviceRecord } from './helpers.js';

/** Listens on the port given as its first argument (a server that ignores PORT), from a child process. */
const FIXED = `
const { spawn } = require('node:child_process');
if (process.argv[3] === 'child') {
  require('node:net').createServer((s) => { s.on('error', () => {}); s.end(); }).listen(Number(process.argv[2]), '127.0.0.1', () => console.log('listening on ' + process.argv[2]));
} else {
  spawn(process.execPath, [__filename, process.argv[2], 'child'], { stdio: 'inherit' });
}
`;

/**
 * Opens a socket of its own first (a debugger, an HMR server), then boots for a while, busy, before it listens
 * on $PORT: the watch must not mistake it for a server on the wrong port.
 */
const SLOW_BOOT = `
const net = require('node:net');
net.createServer().listen(0, '127.0.0.1', () => {
  console.log('side socket open');
  const until = Date.now() + Number(process.argv[2]);
  const boot = () => { const t = Date.now() + 50; while (Date.now() < t); if (Date.now() < until) setImmediate(boot); else net.createServer((s) => { s.on('error', () => {}); s.end(); }).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('booted')); };
  boot();
});
`;

describe('up: a service that listens on another port than its own', () => {
  it('is reported within 10 s, naming the port it listens on and the fix', async () => {
    const fixed = await freePort();
    const fx = await fixture({
      'package.json': '{"name": "wrong-port", "private": true}',
      'portbroker.config.json': config({ services: { web: { command: `node fixed.js ${fixed}` } } }),
      'fixed.js': FIXED,
    });
    const up = fx.start(['up']);
    await up.waitFor(/web\s+│ listening on/, 30_000);
    const listening = Date.now();
    const out = await up.waitFor(/web listens on \d+/, 20_000);
    const elapsed = Date.now() - listening;
    const { port } = serviceRecord(fx, 'web')!;
    expect(out).toContain(`web listens on ${fixed}, not on its port ${port}: the proxy and the *_URL variables point at ${port}, so portbroker stopped it`);
    expect(out).toContain('make it listen on $PORT');
    expect(out).toContain(`services.web.port: ${fixed}`);
    expect(elapsed).toBeLessThan(10_000);
    // Nothing else to run: up ends, failed, and the server is gone.
    const result = await up.exited;
    expect(result.code).toBe(1);
    expect(await acceptsConnections(fixed)).toBe(false);
  });

  it('names the flag to change when the command itself sets the other port (a real python3 -m http.server)', async () => {
    const fixed = await freePort();
    const fx = await fixture({
      'package.json': '{"name": "wrong-flag", "private": true}',
      'portbroker.config.json': config({ services: { files: { command: `/usr/bin/python3 -m http.server ${fixed}` } } }),
    });
    const up = fx.start(['up']);
    const out = await up.waitFor(/files listens on \d+/, 30_000);
    const { port } = serviceRecord(fx, 'files')!;
    expect(out).toContain(`files: its command sets port ${fixed}, but portbroker reserved ${port} for it`);
    expect(out).toContain(`files listens on ${fixed}, not on its port ${port}`);
    expect(out).toContain(`write $PORT (or {port}) instead of ${fixed} in its command`);
    expect((await up.exited).code).toBe(1);
  });

  it('leaves alone a service that opens another socket first and keeps booting towards its port', async () => {
    const fx = await fixture({
      'package.json': '{"name": "slow-boot", "private": true}',
      'portbroker.config.json': config({ services: { jvm: { command: 'node slow.js 4000' } } }),
      'slow.js': SLOW_BOOT,
    });
    const up = fx.start(['up']);
    const out = await up.waitFor(/SERVICE\s+PORT/, 40_000);
    expect(out).toContain('jvm is ready');
    expect(out).not.toContain('listens on');
    expect((await up.stop()).code).toBe(0);
  });
});
