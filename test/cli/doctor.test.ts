import { spawn } from 'node:child_process';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { updateRegistry } from '../../src/ports/registry.js';
import { fixture } from '../helpers/cli.js';

interface Check {
  id: string;
  status: 'ok' | 'warn' | 'fail';
  message: string;
  fix?: string;
}

const CONFIG = { 'portbroker.config.json': JSON.stringify({ name: 'acme', services: { web: {} } }) };

describe('doctor', () => {
  it('runs every check and says ok/warn/fail with a fix', async () => {
    const fx = await fixture(CONFIG);
    const result = await fx.run(['doctor', '--json']);
    const checks = JSON.parse(result.stdout) as Check[];
    expect(checks.map((c) => c.id)).toEqual([
      'config',
      'state-folder',
      'proxy-port',
      'localhost-dns',
      'hosts-file',
      'ipv4-loopback',
      'ipv6-loopback',
      'ephemeral-range',
      'stale-reservations',
      'orphans',
      'exposed-services',
    ]);
    for (const c of checks) {
      expect(['ok', 'warn', 'fail']).toContain(c.status);
      if (c.status !== 'ok') expect(c.fix).toBeTruthy();
    }
    expect(checks.find((c) => c.id === 'proxy-port')).toMatchObject({ status: 'ok', message: `proxy port ${fx.proxyPort} is free` });
    expect(result.code).toBe(checks.some((c) => c.status === 'fail') ? 1 : 0);
    const text = (await fx.run(['doctor'])).stdout;
    expect(text).toMatch(/^ok {2}/m);
  });

  it('fails when something else holds the proxy port, naming it', async () => {
    const fx = await fixture(CONFIG);
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(fx.proxyPort, '127.0.0.1', resolve));
    try {
      const result = await fx.run(['doctor', '--json']);
      expect(result.code).toBe(1);
      const check = (JSON.parse(result.stdout) as Check[]).find((c) => c.id === 'proxy-port')!;
      expect(check.status).toBe('fail');
      expect(check.message).toContain(`proxy port ${fx.proxyPort} is held by pid ${process.pid}`);
      expect(check.fix).toMatch(/PORTBROKER_PROXY_PORT/);
    } finally {
      squatter.close();
    }
  });

  it('finds service processes whose supervisor is gone', async () => {
    const fx = await fixture(CONFIG);
    await fx.run(['port', 'web']);
    const orphan = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
    const liveOwner = spawn('sleep', ['60'], { stdio: 'ignore' });
    const deadOwner = spawn('true');
    await new Promise((resolve) => deadOwner.once('exit', resolve));
    try {
      await updateRegistry(fx.home, (data) => {
        const checkout = data.checkouts[fx.root]!;
        checkout.ownerPid = deadOwner.pid;
        Object.assign(checkout.services.web!, { state: 'running', pid: orphan.pid });
      });
      const checks = JSON.parse((await fx.run(['doctor', '--json'])).stdout) as Check[];
      const check = checks.find((c) => c.id === 'orphans')!;
      expect(check.status).toBe('warn');
      expect(check.message).toContain(`acme/web (process group ${orphan.pid})`);

      // The service's own supervisor (a `run` beside an `up`) counts, not the checkout's.
      await updateRegistry(fx.home, (data) => {
        const checkout = data.checkouts[fx.root]!;
        checkout.ownerPid = liveOwner.pid;
        checkout.services.web!.owner = deadOwner.pid;
      });
      const again = (JSON.parse((await fx.run(['doctor', '--json'])).stdout) as Check[]).find((c) => c.id === 'orphans')!;
      expect(again.status).toBe('warn');
    } finally {
      orphan.kill('SIGKILL');
      liveOwner.kill('SIGKILL');
    }
  });

  it('reports a broken config as a failed check instead of crashing', async () => {
    const fx = await fixture({ 'portbroker.config.json': '{ "services": { "web": { "comand": "x" } } }' });
    const result = await fx.run(['doctor', '--json']);
    expect(result.code).toBe(1);
    const check = (JSON.parse(result.stdout) as Check[]).find((c) => c.id === 'config')!;
    expect(check).toMatchObject({ status: 'fail' });
    expect(check.message).toContain('services.web.comand: unknown field');
  });
});
