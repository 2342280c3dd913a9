import { spawn } from 'node:child_process';
import { chmodSync, chownSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, REPO } from '../helpers/cli.js';
import { chownToNobody, runAsNobody } from '../helpers/users.js';

const REGISTRY_MODULE = path.join(REPO, 'dist', 'ports', 'registry.js');
const CONFIG = { 'portbroker.config.json': JSON.stringify({ name: 'acme', services: { web: {}, s00: {} } }) };

interface Registry {
  version: 1;
  generation?: number;
  checkouts: Record<string, { project: string; services: Record<string, { port: unknown }> } | null>;
  aliases: Record<string, { port: number } | null>;
}

const readRegistryJson = (home: string) => JSON.parse(readFileSync(path.join(home, 'registry.json'), 'utf8')) as Registry;

/** A real node process running the registry module: `script` gets `updateRegistry`, `readRegistry` and `home`. */
function registryProcess(home: string, script: string, shell = '') {
  const code = `
    import { readRegistry, updateRegistry } from ${JSON.stringify(REGISTRY_MODULE)};
    const home = ${JSON.stringify(home)};
    ${script}`;
  const child = shell
    ? spawn('sh', ['-c', `${shell}; exec "$0" --input-type=module -e "$1"`, process.execPath, code], { stdio: ['pipe', 'pipe', 'pipe'] })
    : spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  const printed = (text: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => (stdout.includes(text) ? resolve() : undefined);
      child.stdout.on('data', check);
      void exited.then(() => reject(new Error(`exited before printing ${text}: ${stdout}${stderr}`)));
      check();
    });
  return { child, exited, printed };
}

describe('a writer paused past its lock never overwrites what others wrote (issue 7, item 1)', () => {
  it('re-reads and applies its change again after another command broke its lock and wrote', async () => {
    const fx = await fixture(CONFIG);
    expect((await fx.run(['port', 'web'])).code).toBe(0);
    // The holder reads the registry under the lock, then is stopped (Ctrl-Z, a laptop's sleep) before writing.
    const holder = registryProcess(
      fx.home,
      `let runs = 0;
      await updateRegistry(home, async (data) => {
        runs++;
        data.checkouts['/tmp/holder'] = { project: 'holder', label: '', root: '/tmp/holder', services: {} };
        process.stdout.write('read ' + runs + '\\n');
        if (runs === 1) await new Promise((resolve) => process.stdin.once('data', resolve));
      });
      process.stdout.write('done after ' + runs + ' runs\\n');
      process.exit(0);`,
    );
    await holder.printed('read 1');
    holder.child.kill('SIGSTOP');
    try {
      // 5 s later the lock counts as stale: another command breaks it and writes.
      const alias = await fx.run(['alias', 'x', '1234'], { timeoutMs: 40_000 });
      expect(alias.stderr).not.toContain('error');
      expect(alias.code).toBe(0);
      expect(readRegistryJson(fx.home).aliases['x.localhost']).toMatchObject({ port: 1234 });
    } finally {
      holder.child.kill('SIGCONT');
    }
    holder.child.stdin.write('go\n');
    const result = await holder.exited;
    expect(result.stderr).not.toMatch(/Lock is already released|\n\s+at /);
    expect(result.stderr).toContain('the registry lock was taken over while this command was paused; reading the registry again');
    expect(result.stdout).toContain('done after 2 runs');
    expect(result.code).toBe(0);
    // Both writes are there: the alias written meanwhile and the holder's own change.
    const data = readRegistryJson(fx.home);
    expect(data.aliases['x.localhost']).toMatchObject({ port: 1234 });
    expect(data.checkouts['/tmp/holder']).toMatchObject({ project: 'holder' });
    expect(data.checkouts[fx.root]?.services.web).toBeDefined();
    // The version before the last write is kept.
    expect((JSON.parse(readFileSync(path.join(fx.home, 'registry.json.bak'), 'utf8')) as Registry).aliases['x.localhost']).toMatchObject({ port: 1234 });
  });
});

describe('two writers of one version cannot both land (issue 7, item 1: a lock broken under load)', () => {
  it('a writer that finds the next generation claimed by a live writer re-reads instead of renaming over it', async () => {
    const fx = await fixture(CONFIG);
    expect((await fx.run(['port', 'web'])).code).toBe(0);
    const next = (readRegistryJson(fx.home).generation ?? 0) + 1;
    // A live writer (a real process) holds the claim on the next generation, as one whose lock was broken
    // while it was between its check and its rename would: nobody else may write that generation.
    const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      writeFileSync(path.join(fx.home, `registry.json.gen-${next}`), String(holder.pid));
      const blocked = await fx.run(['alias', 'x', '1234'], { timeoutMs: 40_000 });
      expect(blocked.code).toBe(1);
      expect(blocked.stderr).toMatch(/kept changing under this command/);
      expect(blocked.stderr).not.toMatch(/\n\s+at /);
      expect(readRegistryJson(fx.home).aliases['x.localhost']).toBeUndefined();
    } finally {
      holder.kill('SIGKILL');
    }
    await new Promise((resolve) => holder.once('exit', resolve));
    // The claim of a writer that died is taken over.
    const written = await fx.run(['alias', 'x', '1234']);
    expect(written.code).toBe(0);
    expect(readRegistryJson(fx.home).aliases['x.localhost']).toMatchObject({ port: 1234 });
    expect(readdirSync(fx.home).filter((name) => name.includes('.gen-'))).toEqual([]);
  });
});

describe('only a parse error counts as corruption (issue 7, item 2)', () => {
  it('a registry the user cannot read fails the command with the errno and the fix, and changes nothing', async () => {
    const fx = await fixture(CONFIG);
    expect((await fx.run(['port', 'web'])).code).toBe(0);
    const before = readFileSync(path.join(fx.home, 'registry.json'), 'utf8');
    chownToNobody(fx.root);
    chownToNobody(fx.home);
    const registry = path.join(fx.home, 'registry.json');
    chownSync(registry, 0, 0);
    chmodSync(registry, 0o600);
    for (const args of [['port', 'web'], ['ls'], ['alias', 'x', '1234']]) {
      const result = await runAsNobody(args, { cwd: fx.root, env: fx.env });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`cannot read the registry ${registry}: EACCES (permission denied); nothing was changed`);
      expect(result.stderr).toContain(`ls -ld ${registry}`);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
    expect(readFileSync(registry, 'utf8')).toBe(before);
    expect(readdirSync(fx.home).filter((f) => f.includes('corrupt'))).toEqual([]);
  });

  it('a process out of file descriptors (EMFILE) fails cleanly and leaves the registry as it was', async () => {
    const fx = await fixture(CONFIG);
    expect((await fx.run(['port', 'web'])).code).toBe(0);
    const before = readFileSync(path.join(fx.home, 'registry.json'), 'utf8');
    const writer = registryProcess(
      fx.home,
      `import fs from 'node:fs';
      await import('proper-lockfile').catch(() => undefined);
      const fds = [];
      try { for (;;) fds.push(fs.openSync('/dev/null', 'r')); } catch (error) { if (error.code !== 'EMFILE') throw error; }
      let outcome;
      try {
        await updateRegistry(home, (data) => { data.aliases['lost.localhost'] = { port: 4321, createdAt: '' }; });
        outcome = 'written';
      } catch (error) {
        outcome = error.message;
      }
      for (const fd of fds) fs.closeSync(fd);
      process.stdout.write(outcome + '\\n');`,
      'ulimit -n 64',
    );
    const result = await writer.exited;
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(`cannot read the registry ${path.join(fx.home, 'registry.json')}: EMFILE (too many open files); nothing was changed`);
    expect(readFileSync(path.join(fx.home, 'registry.json'), 'utf8')).toBe(before);
    expect(readdirSync(fx.home).filter((f) => f.includes('corrupt'))).toEqual([]);
  });

  it('an unparseable registry is set aside and the previous version restored from registry.json.bak', async () => {
    const fx = await fixture(CONFIG);
    const web = (await fx.run(['port', 'web'])).stdout.trim();
    expect((await fx.run(['alias', 'docs', '8081'])).code).toBe(0);
    expect(readFileSync(path.join(fx.home, 'registry.json.bak'), 'utf8')).not.toContain('docs.localhost');
    const file = path.join(fx.home, 'registry.json');
    writeFileSync(file, readFileSync(file, 'utf8').slice(0, 60)); // one bad write
    // A reader uses the backup meanwhile…
    const read = await fx.run(['port', 'web']);
    expect(read.code).toBe(0);
    expect(read.stdout.trim()).toBe(web);
    expect(read.stderr).toContain(`the registry ${file} is unreadable (invalid JSON`);
    expect(read.stderr).toContain('using registry.json.bak until the next change');
    // …and the next write sets the bad file aside and goes on from the backup.
    const write = await fx.run(['alias', 'api', '8082']);
    expect(write.code).toBe(0);
    expect(write.stderr).toMatch(/warning: the registry was unreadable \(invalid JSON.*\); moved it to .*registry\.json\.corrupt-.* and restored the previous version from registry\.json\.bak/);
    const data = readRegistryJson(fx.home);
    expect(data.checkouts[fx.root]?.services.web?.port).toBe(Number(web));
    // The backup is the version before the last write: the alias written last went with the bad file.
    expect(Object.keys(data.aliases).sort()).toEqual(['api.localhost']);
  });
});

describe('a malformed entry is dropped alone (issue 7, item 3)', () => {
  it('keeps the good entries, warns naming each bad one, never prints or routes a bad port', async () => {
    const fx = await fixture(CONFIG);
    const web = (await fx.run(['port', 'web'])).stdout.trim();
    expect((await fx.run(['alias', 'good', '8081'])).code).toBe(0);
    const data = readRegistryJson(fx.home);
    data.checkouts['/x'] = null;
    data.checkouts['/y'] = { project: 'y', services: null } as unknown as Registry['checkouts'][string];
    data.checkouts[fx.root]!.services.s00 = { port: 'abc', proxy: true, hostnames: [], state: 'reserved', reservedAt: '' } as { port: unknown };
    data.aliases['bad.localhost'] = null;
    writeFileSync(path.join(fx.home, 'registry.json'), JSON.stringify(data));

    const ls = await fx.run(['ls', '--all', '--json']);
    expect(ls.code).toBe(0);
    expect(ls.stderr).toContain('dropped 4 malformed registry entries (the rest is kept)');
    for (const entry of ['checkouts["/x"] (not an object)', 'checkouts["/y"] (services is not an object)', `checkouts[${JSON.stringify(fx.root)}].services.s00 (port "abc" is not an integer in 1-65535)`, 'aliases["bad.localhost"] (not an object)']) {
      expect(ls.stderr).toContain(entry);
    }
    const rows = JSON.parse(ls.stdout) as Array<{ service: string; port: number }>;
    expect(rows.map((r) => `${r.service}:${r.port}`).sort()).toEqual([`good:8081`, `web:${web}`]);

    const port = await fx.run(['port', 's00']);
    expect(port.code).toBe(0);
    expect(port.stdout).not.toBe('abc');
    expect(Number(port.stdout)).toBeGreaterThanOrEqual(49152);
    // The write that reserved s00 again left the bad entries out: no more warnings.
    const again = await fx.run(['port', 'web']);
    expect(again.stderr).toBe('');
    expect(again.stdout.trim()).toBe(web);

    const proxy = await fx.run(['proxy', 'start']);
    expect(proxy.stderr).toBe('');
    expect(proxy.code).toBe(0);
    const status = await fx.run(['proxy', 'status', '--json']);
    expect(status.stdout).toContain('good.localhost');
    await fx.run(['proxy', 'stop']);
    expect(readFileSync(path.join(fx.home, 'proxy.log'), 'utf8')).not.toMatch(/TypeError|\n\s+at /);
  });
});
