import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, REPO } from '../helpers/cli.js';

const REGISTRY_MODULE = path.join(REPO, 'dist', 'ports', 'registry.js');

/** A real process that takes the registry lock (and keeps writing with `write`), killed with SIGKILL by the test. */
function lockHolder(home: string, mode: 'hold' | 'write') {
  const script = `
    import { updateRegistry } from ${JSON.stringify(REGISTRY_MODULE)};
    const home = ${JSON.stringify(home)};
    if (${JSON.stringify(mode)} === 'hold') {
      // The interval keeps the process alive: it must die by SIGKILL while holding the lock, not exit.
      setInterval(() => {}, 1000);
      await updateRegistry(home, () => { process.stdout.write('locked\\n'); return new Promise(() => {}); });
    } else {
      process.stdout.write('writing\\n');
      for (let i = 0; ; i++) {
        await updateRegistry(home, (data) => {
          // A big record, so a write takes long enough to be caught in the middle.
          data.checkouts['/tmp/filler'] = { project: 'filler', label: '', root: '/tmp/filler', services: Object.fromEntries(
            Array.from({ length: 2000 }, (_, n) => [\`s\${n}\`, { port: 20000 + n, proxy: true, hostnames: [], state: 'reserved', reservedAt: String(i) }])) };
        });
      }
    }`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  return { child, ready };
}

const CONFIG = { 'portbroker.config.json': JSON.stringify({ name: 'acme', services: { web: {}, api: {} } }) };

describe('registry crash safety', () => {
  it('breaks the lock of a process killed while holding it', async () => {
    const fx = await fixture(CONFIG);
    expect((await fx.run(['port', 'web'])).code).toBe(0);
    const holder = lockHolder(fx.home, 'hold');
    await holder.ready;
    expect(existsSync(path.join(fx.home, 'registry.json.lock'))).toBe(true);
    holder.child.kill('SIGKILL');
    await new Promise((resolve) => holder.child.once('exit', resolve));

    fx.write('portbroker.config.json', JSON.stringify({ name: 'acme', services: { web: {}, api: {}, docs: {} } }));
    const result = await fx.run(['port', 'docs'], { timeoutMs: 30_000 });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(Number(result.stdout)).toBeGreaterThan(0);
    expect(existsSync(path.join(fx.home, 'registry.json.lock'))).toBe(false);
  });

  it('keeps the registry whole when a writer is killed mid-write, again and again', async () => {
    const fx = await fixture(CONFIG);
    const first = (await fx.run(['port', 'web'])).stdout;
    for (let round = 0; round < 5; round++) {
      const writer = lockHolder(fx.home, 'write');
      await writer.ready;
      await new Promise((resolve) => setTimeout(resolve, 50 + round * 37));
      writer.child.kill('SIGKILL');
      await new Promise((resolve) => writer.child.once('exit', resolve));
      // Whatever moment it died at, the file parses and our reservation is there.
      const data = JSON.parse(readFileSync(path.join(fx.home, 'registry.json'), 'utf8')) as { checkouts: Record<string, unknown> };
      expect(data.checkouts[fx.root]).toBeDefined();
      const again = await fx.run(['port', 'web'], { timeoutMs: 30_000 });
      expect(again.stderr).toBe('');
      expect(again.stdout).toBe(first);
    }
    // Temp files of the killed writers do not pile up.
    await fx.run(['release', 'api']);
    expect(readdirSync(fx.home).filter((f) => /^registry\.json\.\d+$/.test(f))).toEqual([]);
  });

  it('sets a corrupt registry aside with a warning and rebuilds it', async () => {
    const fx = await fixture(CONFIG);
    const port = (await fx.run(['port', 'web'])).stdout;
    const file = path.join(fx.home, 'registry.json');
    writeFileSync(file, readFileSync(file, 'utf8').slice(0, 40)); // truncated mid-record
    const result = await fx.run(['port', 'web']);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/warning: the registry was unreadable \(invalid JSON.*\); moved it to .*registry\.json\.corrupt-/);
    // Stable allocation gives the same port back.
    expect(result.stdout).toBe(port);
    expect(readdirSync(fx.home).filter((f) => f.startsWith('registry.json.corrupt-'))).toHaveLength(1);
    expect(() => JSON.parse(readFileSync(file, 'utf8'))).not.toThrow();
  });
});
