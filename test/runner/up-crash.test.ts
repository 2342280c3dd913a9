import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/cli.js';
import { config, SERVE, serviceRecord } from './helpers.js';

const CRASH = `console.log('boot ' + process.pid); setTimeout(() => { console.error('boom: cannot reach the database'); process.exit(1); }, 200);`;

describe('portbroker up: crashes', () => {
  it('restarts a crashing service with growing delays, then gives up and says so', async () => {
    const fx = await fixture({
      'crash.mjs': CRASH,
      'serve.mjs': SERVE,
      'portbroker.config.json': config({ services: { flaky: { command: 'node crash.mjs' }, steady: { command: 'node serve.mjs' } } }),
    });
    const up = fx.start(['up']);
    // The table comes once every start has settled: here, when flaky is given up on.
    const out = await up.waitFor(/flaky\s+\d+\s+\S+\s+crashed/, 40_000);
    const delays = [...out.matchAll(/flaky exited with code 1; restarting in ([\d.]+) s \((\d) of 5 within 60 s\)/g)].map((m) => Number(m[1]));
    expect(delays).toHaveLength(4);
    for (let i = 1; i < delays.length; i++) expect(delays[i]).toBeGreaterThan(delays[i - 1]!);
    expect(out).toMatch(/✖ flaky exited with code 1; it ended 5 times within 60 s, so portbroker stopped restarting it/);
    // The message carries the service's last output and the fix.
    expect(out).toMatch(/last output:\n(.*\n)*\s+│ boom: cannot reach the database/);
    expect(out).toMatch(/fix the error shown above, then run `portbroker up flaky` again/);
    expect(out.match(/flaky\s+│ boot/g)).toHaveLength(5);
    // The other service keeps running.
    expect(out).toMatch(/steady\s+\d+\s+\S+\s+running/);
    expect(serviceRecord(fx, 'flaky')?.state).toBe('crashed');
    expect(serviceRecord(fx, 'steady')?.state).toBe('running');
    expect((await up.stop()).code).toBe(0);
  });

  it('restart "no" leaves a crashed service down; with nothing left running, up ends with status 1', async () => {
    const fx = await fixture({
      'crash.mjs': CRASH,
      'portbroker.config.json': config({ services: { once: { command: 'node crash.mjs', restart: 'no' } } }),
    });
    const result = await fx.run(['up'], { timeoutMs: 30_000 });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/once exited with code 1 before it was ready \(restart: "no", so it stays down\)/);
    expect(result.stderr).toMatch(/no service is running any more/);
    expect(result.stdout.match(/once\s+│ boot/g)).toHaveLength(1);
  });

  it('restart "always" restarts a service that exits 0', async () => {
    const fx = await fixture({
      'serve.mjs': SERVE,
      'tick.mjs': `import http from 'node:http'; const s = http.createServer((q, r) => r.end('x')).listen(Number(process.env.PORT), process.env.HOST, () => console.log('tick up')); setTimeout(() => process.exit(0), 300);`,
      'portbroker.config.json': config({ services: { tick: { command: 'node tick.mjs', restart: 'always' } } }),
    });
    const up = fx.start(['up']);
    const out = await up.waitFor(/tick exited with code 0; restarting in [\d.]+ s \(2 of 5/, 30_000);
    expect(out.match(/tick\s+│ tick up/g)!.length).toBeGreaterThanOrEqual(2);
    expect((await up.stop()).code).toBe(0);
  });
});
