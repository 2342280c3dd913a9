import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onTestFinished, describe, expect, it } from 'vitest';
import { fixture } from '../helpers/cli.js';
import { chownToNobody, runAsNobody } from '../helpers/users.js';

const CONFIG = { 'portbroker.config.json': JSON.stringify({ name: 'acme', services: { web: {} } }) };

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** One line on stderr, no stack trace. */
function expectOneLineError(stderr: string): void {
  expect(stderr).not.toMatch(/\n\s+at |unexpected error|TypeError/);
  expect(stderr.trim().split('\n').length).toBeLessThanOrEqual(2); // the message and its fix
}

describe('a state folder others could write is refused (issue 7, item 4)', () => {
  it('is created 0700', async () => {
    const fx = await fixture(CONFIG);
    const home = path.join(tempDir('pb-parent-'), 'deep', 'state');
    const result = await fx.run(['port', 'web'], { env: { PORTBROKER_HOME: home } });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(statSync(home).mode & 0o777).toBe(0o700);
    expect(statSync(path.join(home, 'registry.json')).mode & 0o777).toBe(0o600);
  });

  it('refuses a world- or group-writable folder, naming its mode and the fix; doctor fails it', async () => {
    const fx = await fixture(CONFIG);
    expect((await fx.run(['port', 'web'])).code).toBe(0);
    const before = readFileSync(path.join(fx.home, 'registry.json'), 'utf8');
    for (const mode of [0o777, 0o770]) {
      chmodSync(fx.home, mode);
      const result = await fx.run(['port', 'web']);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(`the state folder ${fx.home} is writable by ${mode === 0o777 ? 'its group and everyone' : 'its group'} (mode 0${mode.toString(8)})`);
      expect(result.stderr).toContain(`chmod 700 ${fx.home}`);
      expectOneLineError(result.stderr);
    }
    const doctor = await fx.run(['doctor', '--json']);
    expect(doctor.code).toBe(1);
    const check = (JSON.parse(doctor.stdout) as Array<{ id: string; status: string; fix?: string }>).find((c) => c.id === 'state-folder');
    expect(check).toMatchObject({ status: 'fail', fix: `make it yours alone: \`chmod 700 ${fx.home}\`` });
    expect(readFileSync(path.join(fx.home, 'registry.json'), 'utf8')).toBe(before);
  });

  it("refuses another user's folder, saying whose it is and how to take it over", async () => {
    const fx = await fixture(CONFIG);
    chownSync(fx.home, 65534, 65534);
    const result = await fx.run(['ls']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`the state folder ${fx.home} belongs to nobody (uid 65534), not to you (root (uid 0))`);
    expect(result.stderr).toContain(`sudo chown -R root ${fx.home}`);
    expectOneLineError(result.stderr);
    expect(readdirSync(fx.home)).toEqual([]);
  });

  it('never imports a module planted in the config cache of a folder others can write', async () => {
    const fx = await fixture({ 'portbroker.config.ts': `export default { name: 'acme', services: { web: {} } };\n` });
    expect((await fx.run(['port', 'web'])).code).toBe(0);
    // Someone who can write the folder rewrites the cached bundle, and its manifest to match (as an attacker would).
    const marker = path.join(tempDir('pb-marker-'), 'planted-code-ran');
    const cache = path.join(fx.home, 'cache', 'config');
    const planted = `import fs from 'node:fs'; fs.writeFileSync(${JSON.stringify(marker)}, 'x'); export default { name: 'acme', services: { web: {} } };`;
    const plantedHash = createHash('sha256').update(planted).digest('hex');
    for (const name of readdirSync(cache)) {
      const file = path.join(cache, name);
      if (name.endsWith('.mjs')) {
        writeFileSync(file, planted);
        if (/^[0-9a-f]{64}\.mjs$/.test(name)) renameSync(file, path.join(cache, `${plantedHash}.mjs`));
      } else if (name.endsWith('.json')) {
        const manifest = JSON.parse(readFileSync(file, 'utf8')) as { module?: string };
        if (manifest.module) writeFileSync(file, JSON.stringify({ ...manifest, module: plantedHash }));
      }
    }
    chmodSync(fx.home, 0o777);
    const result = await fx.run(['port', 'web']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('is writable by its group and everyone');
    expect(existsSync(marker)).toBe(false);
  });

  it('rebuilds a cached config module whose content no longer matches its hash, never running the change', async () => {
    const fx = await fixture({ 'portbroker.config.ts': `export default { name: 'acme', services: { web: {} } };\n` });
    const first = await fx.run(['port', 'web']);
    expect(first.code).toBe(0);
    const cache = path.join(fx.home, 'cache', 'config');
    const [bundle] = readdirSync(cache).filter((f) => f.endsWith('.mjs'));
    expect(bundle).toMatch(/^[0-9a-f]{64}\.mjs$/);
    const marker = path.join(tempDir('pb-marker-'), 'tampered-code-ran');
    writeFileSync(path.join(cache, bundle!), `import fs from 'node:fs'; fs.writeFileSync(${JSON.stringify(marker)}, 'x');\n${readFileSync(path.join(cache, bundle!), 'utf8')}`);
    const again = await fx.run(['port', 'web']);
    expect(again.stderr).toBe('');
    expect(again.stdout).toBe(first.stdout);
    expect(existsSync(marker)).toBe(false);
    // Rebuilt under the same name, since the config did not change.
    expect(readFileSync(path.join(cache, bundle!), 'utf8')).not.toContain(marker);
  });

  it('follows a symlinked state folder only when its target passes the same check', async () => {
    const fx = await fixture(CONFIG);
    const links = tempDir('pb-links-');
    const good = tempDir('pb-target-');
    symlinkSync(good, path.join(links, 'good'));
    const ok = await fx.run(['port', 'web'], { env: { PORTBROKER_HOME: path.join(links, 'good') } });
    expect(ok.stderr).toBe('');
    expect(existsSync(path.join(good, 'registry.json'))).toBe(true);

    const open = tempDir('pb-target-');
    chmodSync(open, 0o777);
    symlinkSync(open, path.join(links, 'open'));
    const refused = await fx.run(['port', 'web'], { env: { PORTBROKER_HOME: path.join(links, 'open') } });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`the state folder ${path.join(links, 'open')} (→ ${open}) is writable by its group and everyone`);
    expect(readdirSync(open)).toEqual([]);
  });
});

describe('an unusable state folder fails at once with the reason (issue 7, item 5)', () => {
  it('a folder the user cannot write: every command, ls included, says so at once instead of waiting for a lock', async () => {
    const fx = await fixture(CONFIG);
    chownToNobody(fx.root);
    chownToNobody(fx.home);
    chmodSync(fx.home, 0o500);
    for (const args of [['ls'], ['port', 'web'], ['alias', 'x', '1234']]) {
      const result = await runAsNobody(args, { cwd: fx.root, env: fx.env, timeoutMs: 30_000 });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`the state folder ${fx.home} is not writable: EACCES (permission denied)`);
      expect(result.stderr).toContain(`chmod 700 ${fx.home}`);
      expect(result.stderr).not.toContain('another portbroker command');
      expectOneLineError(result.stderr);
      // The lock used to be retried for 24 s before failing.
      expect(result.ms).toBeLessThan(10_000);
    }
  });

  it('a module config whose cache cannot be written names the folder, not a missing config', async () => {
    const fx = await fixture({ 'portbroker.config.mjs': `export default { name: 'acme', services: { web: {} } };\n` });
    chownToNobody(fx.root);
    chownToNobody(fx.home);
    chmodSync(fx.home, 0o500);
    const result = await runAsNobody(['port', 'web'], { cwd: fx.root, env: fx.env });
    expect(result.code).toBe(1);
    expect(result.stderr).not.toContain('no portbroker config found');
    expect(result.stderr).toContain(`the state folder ${fx.home} is not writable`);
  });

  it('a dangling symlink, or a file where the folder should be: one line, no stack', async () => {
    const fx = await fixture(CONFIG);
    const links = tempDir('pb-links-');
    const dangling = path.join(links, 'state');
    symlinkSync(path.join(links, 'missing-target'), dangling);
    const result = await fx.run(['port', 'web'], { env: { PORTBROKER_HOME: dangling } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`the state folder ${dangling} is a symlink to ${path.join(links, 'missing-target')}, which does not exist`);
    expect(result.stderr).toContain(`mkdir -m 700 ${path.join(links, 'missing-target')}`);
    expectOneLineError(result.stderr);

    const file = path.join(links, 'a-file');
    writeFileSync(file, '');
    const notFolder = await fx.run(['ls'], { env: { PORTBROKER_HOME: file } });
    expect(notFolder.code).toBe(1);
    expect(notFolder.stderr).toContain(`the state folder ${file} is not a folder`);
    expectOneLineError(notFolder.stderr);
  });
});
