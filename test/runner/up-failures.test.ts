import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/cli.js';
import { alive, config, fixtureProcesses, get, SERVE, serviceRecord } from './helpers.js';

/** Forks a server into its own session (as a daemon does) and exits 0 at once. */
const DAEMONIZE = `
import { spawn } from 'node:child_process';
const code = "require('node:http').createServer((q, r) => r.end('daemon')).listen(Number(process.env.PORT), process.env.HOST)";
const child = spawn(process.execPath, ['-e', code], { detached: true, stdio: 'ignore' });
child.unref();
console.log('daemon pid ' + child.pid);
`;

function listen(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    // Readiness probes may connect and reset: accepted sockets must not throw.
    const server = net.createServer((socket) => socket.on('error', () => undefined).end());
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

describe('portbroker up: failures', () => {
  it('a command that does not exist: a clear message with its output; the others keep running', async () => {
    const fx = await fixture({
      'serve.mjs': SERVE,
      'portbroker.config.json': config({
        services: {
          good: { command: 'node serve.mjs' },
          bad: { command: 'nosuch-devserver --watch' },
          needsbad: { command: 'node serve.mjs', dependsOn: ['bad'] },
        },
      }),
    });
    const up = fx.start(['up']);
    const out = await up.waitFor(/SERVICE\s+PORT/);
    expect(out).toMatch(/✖ bad: command not found \(exited with code 127\): nosuch-devserver --watch\n\s+check services\.bad\.command, and that the tool is installed in /);
    expect(out).toMatch(/│ .*nosuch-devserver: .*not found/);
    expect(out).toMatch(/✖ needsbad was not started: it depends on bad, which is not running/);
    expect(out).toMatch(/good\s+\d+\s+\S+\s+running/);
    expect(out).toMatch(/bad\s+\d+\s+\S+\s+crashed/);
    expect(out).toMatch(/needsbad\s+\d+\s+\S+\s+crashed/);
    expect(out.match(/bad\s+│/g)?.length ?? 0).toBeGreaterThan(0);
    expect((await get(serviceRecord(fx, 'good')!.port, '/')).body).toBe('this is good');
    expect((await up.stop()).code).toBe(0);
  });

  it('a service that never becomes ready is stopped and reported with its output', async () => {
    const fx = await fixture({
      // A shell prints at once, however busy the machine: the message must carry this line.
      'portbroker.config.json': config({ services: { silent: { command: 'echo compiling…; sleep 60', ready: { timeoutMs: 1_000 } } } }),
    });
    const result = await fx.run(['up'], { timeoutMs: 30_000 });
    expect(result.stderr).toMatch(/✖ silent did not become ready within 1 s: waited until port (\d+) accepts connections, but nothing accepted connections on port \1/);
    expect(result.stderr).toMatch(/make silent listen on \$PORT \(\d+\), or set services\.silent\.ready to \{ log: '<a line it prints when ready>' \}/);
    expect(result.stderr).toMatch(/last output:\n\s+│ compiling…/);
    // Nothing left running, so up ends, with status 1.
    expect(result.code).toBe(1);
    expect(fixtureProcesses(fx)).toEqual([]);
  });

  it('a reserved port held by another process: names the holder, starts the rest', async () => {
    const fx = await fixture({
      'serve.mjs': SERVE,
      'portbroker.config.json': config({ services: { api: { command: 'node serve.mjs' }, web: { command: 'node serve.mjs' } } }),
    });
    const port = Number((await fx.run(['port', 'api'])).stdout.trim());
    const squatter = await listen(port);
    try {
      const up = fx.start(['up']);
      const out = await up.waitFor(/SERVICE\s+PORT/);
      expect(out).toMatch(new RegExp(`✖ api: port ${port} is already in use by pid ${process.pid} \\(.*\\) on 127\\.0\\.0\\.1, so api was not started`));
      expect(out).toMatch(/stop that process \(`portbroker who \d+` shows it\), or give api another port/);
      expect(out).not.toContain('api listening');
      expect(out).toMatch(/web\s+\d+\s+\S+\s+running/);
      expect((await up.stop()).code).toBe(0);
    } finally {
      squatter.close();
    }
  });

  it('a pinned port taken after it was reserved: nothing starts at all either', async () => {
    const squatter = await listen(0);
    const port = (squatter.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => squatter.close(() => resolve()));
    const fx = await fixture({
      'serve.mjs': SERVE,
      'portbroker.config.json': config({ services: { db: { command: 'node serve.mjs', port }, web: { command: 'node serve.mjs' } } }),
    });
    expect((await fx.run(['port', 'db'])).stdout.trim()).toBe(String(port));
    const again = await listen(port);
    try {
      const result = await fx.run(['up'], { timeoutMs: 30_000 });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`port ${port} pinned by services\\.db\\.port is in use by pid ${process.pid}`));
      expect(result.stdout).not.toContain('web listening');
      expect(fixtureProcesses(fx)).toEqual([]);
    } finally {
      again.close();
    }
  });

  it('a pinned port held by another process: nothing starts at all', async () => {
    const squatter = await listen(0);
    const port = (squatter.address() as net.AddressInfo).port;
    try {
      const fx = await fixture({
        'serve.mjs': SERVE,
        'portbroker.config.json': config({ services: { db: { command: 'node serve.mjs', port }, web: { command: 'node serve.mjs' } } }),
      });
      const result = await fx.run(['up'], { timeoutMs: 30_000 });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`port ${port} pinned by services\\.db\\.port is in use by pid ${process.pid}`));
      expect(result.stdout).toBe('');
      expect(fixtureProcesses(fx)).toEqual([]);
    } finally {
      squatter.close();
    }
  });

  it('--abort-on-fail stops everything when one service fails, with status 1', async () => {
    const fx = await fixture({
      'serve.mjs': SERVE,
      'portbroker.config.json': config({
        services: { good: { command: 'node serve.mjs' }, bad: { command: 'nosuch-devserver' }, late: { command: 'node serve.mjs --delay 200' } },
      }),
    });
    const result = await fx.run(['up', '--abort-on-fail'], { timeoutMs: 30_000 });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/bad: command not found/);
    expect(result.stderr).toMatch(/stopping everything because a service failed to start \(--abort-on-fail\)/);
    expect(fixtureProcesses(fx)).toEqual([]);
  });

  it('a command that daemonizes itself is reported, watched, and stopped with the rest', async () => {
    const fx = await fixture({
      'daemon.mjs': DAEMONIZE,
      'portbroker.config.json': config({ services: { forky: { command: 'node daemon.mjs' } } }),
    });
    const up = fx.start(['up']);
    const out = await up.waitFor(/SERVICE\s+PORT/);
    const daemon = Number(/daemon pid (\d+)/.exec(out)![1]);
    expect(out).toMatch(new RegExp(`forky: its command exited but left pid ${daemon} running: it daemonized itself`));
    expect(out).toMatch(/forky\s+\d+\s+\S+\s+running/);
    expect(serviceRecord(fx, 'forky')).toMatchObject({ state: 'running', pid: daemon });
    expect((await get(serviceRecord(fx, 'forky')!.port, '/')).body).toBe('daemon');
    expect((await up.stop()).code).toBe(0);
    expect(alive(daemon)).toBe(false);
    expect(fixtureProcesses(fx)).toEqual([]);
  });
});
