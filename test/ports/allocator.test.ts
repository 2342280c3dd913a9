import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { allocatePorts, candidatePorts, preferredBand, preferredPort, serviceKey } from '../../src/ports/allocator.js';
import { BAD_PORTS } from '../../src/ports/bad-ports.js';

describe('candidatePorts', () => {
  it('visits every port of the range once, starting from the same place every time', () => {
    const key = serviceKey('acme', '', 'web');
    const first = [...candidatePorts(key, [50000, 50999])];
    expect(first).toHaveLength(1000);
    expect(new Set(first).size).toBe(1000);
    expect(Math.min(...first)).toBe(50000);
    expect(Math.max(...first)).toBe(50999);
    expect([...candidatePorts(key, [50000, 50999])]).toEqual(first);
  });

  it('tries the fixed band 61000-65535 of the default range first, then the rest', () => {
    const order = [...candidatePorts(serviceKey('acme', '', 'web'), [49152, 65535])];
    expect(order).toHaveLength(65535 - 49152 + 1);
    expect(new Set(order).size).toBe(order.length);
    const band = 65535 - 61000 + 1;
    expect(order.slice(0, band).every((p) => p >= 61000)).toBe(true);
    expect(order.slice(band).every((p) => p >= 49152 && p <= 60999)).toBe(true);
  });

  it('hashes over a customised range whole (the one exception to the fixed band)', () => {
    const firsts = ['web', 'api', 'docs', 'admin', 'storybook', 'db', 'auth', 'mail'].map((s) => preferredPort(serviceKey('acme', '', s), [50000, 61999]));
    expect(firsts.every((p) => p >= 50000 && p <= 61999)).toBe(true);
    // Not squeezed into 61000-61999: most of a 12,000-port range lies below the default band.
    expect(firsts.some((p) => p < 61000)).toBe(true);
    expect(preferredBand([50000, 61999])).toEqual([50000, 61999]);
    expect(preferredBand([49152, 65535])).toEqual([61000, 65535]);
  });

  it('spreads different services and projects over the range', () => {
    const ports = new Set(['web', 'api', 'docs', 'admin', 'storybook'].flatMap((s) => ['acme', 'globex'].map((p) => preferredPort(serviceKey(p, '', s), [49152, 65535]))));
    expect(ports.size).toBe(10);
    // A worktree label moves the preferred port too.
    expect(preferredPort(serviceKey('acme', 'fix-login', 'web'), [49152, 65535])).not.toBe(preferredPort(serviceKey('acme', '', 'web'), [49152, 65535]));
  });
});

describe('allocatePorts', () => {
  it('gives 1,000 services distinct ports inside the range, probing for real', async () => {
    const requests = Array.from({ length: 1000 }, (_, i) => ({ key: serviceKey('big', '', `svc-${i}`) }));
    const ports = await allocatePorts(requests, { range: [49152, 65535], exclude: new Set() });
    const values = [...ports.values()];
    expect(values).toHaveLength(1000);
    expect(new Set(values).size).toBe(1000);
    expect(values.every((p) => p >= 49152 && p <= 65535)).toBe(true);
  });

  it('skips a port something listens on, on IPv4 or on IPv6', async () => {
    for (const host of ['127.0.0.1', '::1']) {
      const key = serviceKey('probe', host, 'web');
      const preferred = preferredPort(key, [49152, 65535]);
      const server = net.createServer();
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(preferred, host, resolve));
      try {
        const ports = await allocatePorts([{ key }], { range: [49152, 65535], exclude: new Set() });
        expect(ports.get(key)).not.toBe(preferred);
      } finally {
        server.close();
      }
    }
  });

  it('never hands out an excluded port or a port browsers refuse', async () => {
    const ports = await allocatePorts(
      Array.from({ length: 3 }, (_, i) => ({ key: `k${i}` })),
      { range: [6660, 6670], exclude: new Set([6670]) },
    );
    for (const port of ports.values()) {
      expect(BAD_PORTS.has(port)).toBe(false);
      expect(port).not.toBe(6670);
    }
    expect([...ports.values()].sort()).toEqual([6660, 6661, 6662, 6663, 6664].filter((p) => [...ports.values()].includes(p)));
  });

  it('fails clearly when the range is exhausted', async () => {
    await expect(allocatePorts([{ key: 'a' }, { key: 'b' }], { range: [60001, 60001], exclude: new Set() })).rejects.toThrow(
      'no free port left in 60001-60001',
    );
  });
});
