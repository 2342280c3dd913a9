import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/cli.js';
import { config, SERVE, serviceRecord, until } from '../runner/helpers.js';

/**
 * `up bad` beside a running `up` that gave up on bad: it asks that portbroker to start bad again (over the
 * control socket) and reports what happened, exiting 1 when bad still does not come up.
 */

// Crashes at once until the file `fixed` exists; then serves.
const BAD = `import { existsSync } from 'node:fs';
if (!existsSync('fixed')) { console.error('boom: not fixed'); process.exit(1); }
await import('./serve.mjs');
`;

describe('up <service> for a crashed service of another running up', () => {
  it('asks that up to start it again, reports the result, and exits 1 only when it still fails', async () => {
    const fx = await fixture({
      'serve.mjs': SERVE,
      'bad.mjs': BAD,
      'portbroker.config.json': config({ name: 'ce', services: { ok: { command: 'node serve.mjs' }, bad: { command: 'node bad.mjs' } } }),
    });
    const first = fx.start(['up']);
    await first.waitFor(/bad\s+\d+\s+\S+\s+crashed/, 60_000);
    expect(first.stderr).toMatch(/run `portbroker up bad` again/);

    const still = await fx.run(['up', 'bad'], { timeoutMs: 60_000 });
    expect(still.code).toBe(1);
    expect(still.stderr).toContain(`bad is crashed under portbroker pid ${first.child.pid}; asking it to start bad again`);
    expect(still.stderr).toMatch(/bad did not start: see `portbroker logs bad`/);
    expect(still.stderr).not.toMatch(/using that one/);

    fx.write('fixed', '');
    expect(existsSync(`${fx.root}/fixed`)).toBe(true);
    const fixed = await fx.run(['up', 'bad'], { timeoutMs: 60_000 });
    expect(fixed.stderr).toMatch(new RegExp(`portbroker pid ${first.child.pid} started bad \\(pid \\d+\\)`));
    expect(fixed.code).toBe(0);
    await until(() => serviceRecord(fx, 'bad')?.state === 'running', 'bad running');
    expect(serviceRecord(fx, 'bad')?.owner).toBe(first.child.pid);
    expect((await first.stop()).code).toBe(0);
  });
});
