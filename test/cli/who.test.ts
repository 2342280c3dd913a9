import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { fixture, freePort } from '../helpers/cli.js';

function listen(host: string, port = 0): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject).listen(port, host, () => resolve(server));
  });
}

describe('who', () => {
  for (const host of ['127.0.0.1', '::1']) {
    it(`finds the process listening on ${host}`, async () => {
      const fx = await fixture({});
      const server = await listen(host);
      try {
        const port = (server.address() as net.AddressInfo).port;
        const result = await fx.run(['who', String(port), '--json']);
        expect(result.code).toBe(0);
        const answer = JSON.parse(result.stdout) as { port: number; listeners: Array<{ pid: number; address: string; command: string }>; reservation: null };
        expect(answer.port).toBe(port);
        expect(answer.listeners).toEqual([expect.objectContaining({ pid: process.pid, address: host })]);
        expect(answer.listeners[0]!.command).toContain('node');
        expect(answer.reservation).toBeNull();
        const text = await fx.run(['who', String(port)]);
        expect(text.stdout).toContain(`pid ${process.pid}`);
        expect(text.stdout).toContain(host === '::1' ? `[::1]:${port}` : `127.0.0.1:${port}`);
        expect(text.stdout).toContain('not reserved by portbroker');
      } finally {
        server.close();
      }
    });
  }

  it('exits 1 on a port nothing listens on, and names its reservation', async () => {
    const fx = await fixture({ 'portbroker.config.json': JSON.stringify({ name: 'acme', services: { web: {} } }) });
    const port = (await fx.run(['port', 'web'])).stdout.trim();
    const result = await fx.run(['who', port]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`nothing listens on port ${port} (reserved for web of acme in ${fx.root})`);
    const free = await fx.run(['who', String(await freePort())]);
    expect(free.code).toBe(1);
  });

  it('names the reservation of a port that a service listens on', async () => {
    const fx = await fixture({ 'portbroker.config.json': JSON.stringify({ name: 'acme', services: { web: {} } }) });
    const port = Number((await fx.run(['port', 'web'])).stdout);
    const server = await listen('127.0.0.1', port);
    try {
      const answer = JSON.parse((await fx.run(['who', String(port), '--json'])).stdout) as { reservation: Record<string, string> };
      expect(answer.reservation).toEqual({ kind: 'service', project: 'acme', label: '', service: 'web', root: fx.root });
    } finally {
      server.close();
    }
  });

  it('refuses something that is not a port, exit 2', async () => {
    const fx = await fixture({});
    const result = await fx.run(['who', 'http']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/"http" is not a port number/);
  });
});
