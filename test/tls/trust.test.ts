import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CLI, fixture } from '../helpers/cli.js';

/**
 * `portbroker trust` against stores made by the test: a Debian-style system store under PORTBROKER_TRUST_ROOT
 * (the real update-ca-certificates runs, on the test's folders) and an NSS database in the test's HOME (the real
 * certutil). The machine's own stores are never touched.
 */

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An empty Debian trust store: what update-ca-certificates reads and writes. */
function debianRoot(): string {
  const root = tempDir('pb-trust-root-');
  for (const dir of ['usr/share/ca-certificates', 'usr/local/share/ca-certificates', 'etc/ssl/certs', 'etc/ca-certificates/update.d']) mkdirSync(path.join(root, dir), { recursive: true });
  // A store is never empty: one other CA, as the distribution would ship it.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '/dev/null', '-out', path.join(root, 'usr/share/ca-certificates/other.crt'), '-subj', '/CN=other', '-days', '30'], { stdio: 'ignore' });
  writeFileSync(path.join(root, 'etc/ca-certificates.conf'), 'other.crt\n');
  chmodSync(root, 0o755); // an ordinary user reads the system store too
  return root;
}

function nssHome(): string {
  const home = tempDir('pb-trust-home-');
  mkdirSync(path.join(home, '.pki', 'nssdb'), { recursive: true });
  execFileSync('certutil', ['-N', '-d', `sql:${path.join(home, '.pki', 'nssdb')}`, '--empty-password']);
  return home;
}

interface TrustJson {
  ca: string;
  fingerprint: string;
  stores: Array<{ id: string; outcome: string; commands: string[] }>;
}

describe('portbroker trust', () => {
  it('adds the CA to the system store and the NSS database, says so again, and removes it', async () => {
    const fx = await fixture();
    const root = debianRoot();
    const home = nssHome();
    const env = { PORTBROKER_TRUST_ROOT: root, HOME: home };
    const bundle = path.join(root, 'etc/ssl/certs/ca-certificates.crt');
    const nssdb = `sql:${path.join(home, '.pki', 'nssdb')}`;

    const added = await fx.run(['trust', '--json'], { env, timeoutMs: 30_000 });
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    const result = JSON.parse(added.stdout) as TrustJson;
    expect(result.stores.map((s) => [s.id.replace(/:.*/, ''), s.outcome])).toEqual([
      ['debian', 'added'],
      ['nss', 'added'],
    ]);
    const ca = readFileSync(path.join(fx.home, 'certs', 'ca.pem'), 'utf8');
    const body = (pem: string) => pem.replace(/-----[^-]+-----|\s/g, '');
    expect(body(readFileSync(bundle, 'utf8'))).toContain(body(ca));
    const listed = execFileSync('certutil', ['-L', '-d', nssdb], { encoding: 'utf8' });
    expect(listed).toMatch(/portbroker-[0-9a-f]{16}\s+C,,/);

    const doctor = JSON.parse((await fx.run(['doctor', '--json'], { env })).stdout) as Array<{ id: string; status: string }>;
    expect(doctor.find((c) => c.id === 'ca-trust')).toMatchObject({ status: 'ok' });

    const again = JSON.parse((await fx.run(['trust', '--json'], { env })).stdout) as TrustJson;
    expect(again.stores.map((s) => s.outcome)).toEqual(['unchanged', 'unchanged']);

    const removed = await fx.run(['trust', '--remove'], { env, timeoutMs: 30_000 });
    expect(removed.code).toBe(0);
    expect(removed.stdout).toMatch(/removed from the Debian\/Ubuntu system store/);
    expect(body(readFileSync(bundle, 'utf8'))).not.toContain(body(ca));
    expect(execFileSync('certutil', ['-L', '-d', nssdb], { encoding: 'utf8' })).not.toMatch(/portbroker-/);
    const doctorAfter = JSON.parse((await fx.run(['doctor', '--json'], { env })).stdout) as Array<{ id: string; status: string; fix?: string }>;
    expect(doctorAfter.find((c) => c.id === 'ca-trust')).toMatchObject({ status: 'warn', fix: 'portbroker trust' });
  });

  it('prints the exact sudo commands when it lacks the rights, and changes nothing', async () => {
    const root = debianRoot();
    // An ordinary user with a state folder and HOME of its own (the fixture's belong to root).
    const state = tempDir('pb-trust-state-');
    const home = tempDir('pb-trust-user-');
    chownSync(state, 65534, 65534);
    chownSync(home, 65534, 65534);
    const result = spawnSync('runuser', ['-u', 'nobody', '--', process.execPath, CLI, 'trust'], {
      env: { PATH: process.env.PATH, PORTBROKER_HOME: state, PORTBROKER_TRUST_ROOT: root, HOME: home, NO_COLOR: '1' },
      cwd: home,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    const anchor = path.join(root, 'usr/local/share/ca-certificates');
    expect(result.stderr).toMatch(/changing the Debian\/Ubuntu system store needs root; run:/);
    expect(result.stderr).toMatch(new RegExp(`sudo cp ${state}/certs/ca\\.pem ${anchor}/portbroker-[0-9a-f]{16}\\.crt`));
    expect(result.stderr).toMatch(/sudo update-ca-certificates --fresh --certsconf /);
    expect(spawnSync('ls', [anchor], { encoding: 'utf8' }).stdout).toBe('');
  });
});
