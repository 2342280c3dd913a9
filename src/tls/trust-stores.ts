import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The places a CA can be trusted from, and how each is changed. Paths are under `root` (`/` normally;
 * PORTBROKER_TRUST_ROOT points it at a copy, which is how the tests reach a store without touching the machine's).
 */
export interface TrustEnvironment {
  root: string;
  /** Where the user's browser NSS databases live (`~/.pki/nssdb`, Firefox profiles). */
  home: string;
  platform: NodeJS.Platform;
  /** Whether a command is on PATH. */
  has(command: string): boolean;
}

/** One change: copy or delete a file, or run a command. Printed as a shell line when it cannot be done here. */
export type TrustAction = { kind: 'copy'; from: string; to: string } | { kind: 'delete'; file: string } | { kind: 'run'; argv: string[] };

export interface TrustStore {
  /** `debian`, `fedora`, `arch`, `macos`, `nss:<db>`. */
  id: string;
  label: string;
  /** System stores need root (or sudo); NSS databases belong to the user. */
  system: boolean;
  contains(certPem: string): boolean;
  add(certFile: string): TrustAction[];
  remove(): TrustAction[];
}

/** The file name (and NSS nickname) of the CA in a store: one per state folder, told apart by its fingerprint. */
export function trustName(fingerprint: string): string {
  return `portbroker-${fingerprint.replace(/:/g, '').slice(0, 16).toLowerCase()}`;
}

export function trustEnvironment(env: NodeJS.ProcessEnv = process.env): TrustEnvironment {
  return {
    root: env.PORTBROKER_TRUST_ROOT ? path.resolve(env.PORTBROKER_TRUST_ROOT) : '/',
    home: env.HOME ?? os.homedir(),
    platform: process.platform,
    has: (command) => onPath(command, env.PATH ?? ''),
  };
}

/** The stores this machine has: its system store (at most one) and every NSS database, when certutil exists. */
export function trustStores(environment: TrustEnvironment, name: string): TrustStore[] {
  const stores: TrustStore[] = [];
  const system = systemStore(environment, name);
  if (system) stores.push(system);
  if (environment.has('certutil')) for (const db of nssDatabases(environment.home)) stores.push(nssStore(db, name));
  return stores;
}

function systemStore(env: TrustEnvironment, name: string): TrustStore | undefined {
  const at = (p: string) => path.join(env.root, p);
  if (env.platform === 'darwin') return macosStore(name);
  if (existsSync(at('usr/local/share/ca-certificates')) && env.has('update-ca-certificates')) {
    const anchor = path.join(at('usr/local/share/ca-certificates'), `${name}.crt`);
    // Outside a test root the command runs as is; inside one every folder it touches is moved there too.
    const update =
      env.root === '/'
        ? ['update-ca-certificates']
        : ['update-ca-certificates', '--fresh', '--certsconf', at('etc/ca-certificates.conf'), '--certsdir', at('usr/share/ca-certificates'), '--localcertsdir', at('usr/local/share/ca-certificates'), '--etccertsdir', at('etc/ssl/certs'), '--hooksdir', at('etc/ca-certificates/update.d')];
    return fileStore('debian', 'the Debian/Ubuntu system store', anchor, update, [at('etc/ssl/certs/ca-certificates.crt')]);
  }
  for (const [id, label, dir] of [
    ['fedora', 'the Fedora/RHEL system store', 'etc/pki/ca-trust/source/anchors'],
    ['arch', 'the Arch system store', 'etc/ca-certificates/trust-source/anchors'],
  ] as const) {
    if (existsSync(at(dir)) && env.has('update-ca-trust')) {
      const bundles = [at('etc/pki/tls/certs/ca-bundle.crt'), at('etc/ssl/certs/ca-certificates.crt')];
      return fileStore(id, label, path.join(at(dir), `${name}.pem`), ['update-ca-trust', 'extract'], bundles);
    }
  }
  return undefined;
}

/** A store made of an anchors folder and a command that rebuilds the bundle every TLS library reads. */
function fileStore(id: string, label: string, anchor: string, update: string[], bundles: string[]): TrustStore {
  return {
    id,
    label,
    system: true,
    contains: (certPem) => bundles.some((bundle) => readText(bundle).includes(pemBody(certPem))),
    add: (certFile) => [
      { kind: 'copy', from: certFile, to: anchor },
      { kind: 'run', argv: update },
    ],
    remove: () => (existsSync(anchor) ? [{ kind: 'delete', file: anchor }, { kind: 'run', argv: update }] : []),
  };
}

function macosStore(name: string): TrustStore {
  const keychain = '/Library/Keychains/System.keychain';
  return {
    id: 'macos',
    label: 'the macOS system keychain',
    system: true,
    contains: () => {
      try {
        execFileSync('security', ['find-certificate', '-c', name, keychain], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
    },
    add: (certFile) => [{ kind: 'run', argv: ['security', 'add-trusted-cert', '-d', '-r', 'trustRoot', '-k', keychain, certFile] }],
    remove: () => [{ kind: 'run', argv: ['security', 'delete-certificate', '-c', name, keychain] }],
  };
}

function nssStore(db: string, name: string): TrustStore {
  const dbArg = `sql:${db}`;
  const listed = () => {
    try {
      execFileSync('certutil', ['-L', '-d', dbArg, '-n', name], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  };
  return {
    id: `nss:${db}`,
    label: `the NSS database ${db} (Chromium/Firefox)`,
    system: false,
    contains: listed,
    // "C,," : a CA trusted to issue server certificates.
    add: (certFile) => [{ kind: 'run', argv: ['certutil', '-A', '-d', dbArg, '-t', 'C,,', '-n', name, '-i', certFile] }],
    remove: () => (listed() ? [{ kind: 'run', argv: ['certutil', '-D', '-d', dbArg, '-n', name] }] : []),
  };
}

/** Chromium's shared database and every Firefox profile that has a modern (cert9.db) database. */
function nssDatabases(home: string): string[] {
  const dbs: string[] = [];
  const chromium = path.join(home, '.pki', 'nssdb');
  if (existsSync(path.join(chromium, 'cert9.db'))) dbs.push(chromium);
  for (const firefox of [path.join(home, '.mozilla', 'firefox'), path.join(home, 'snap', 'firefox', 'common', '.mozilla', 'firefox'), path.join(home, 'Library', 'Application Support', 'Firefox', 'Profiles')]) {
    let profiles: string[] = [];
    try {
      profiles = readdirSync(firefox);
    } catch {
      continue;
    }
    for (const profile of profiles) if (existsSync(path.join(firefox, profile, 'cert9.db'))) dbs.push(path.join(firefox, profile));
  }
  return dbs;
}

function pemBody(pem: string): string {
  return pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '').slice(0, 256);
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8').replace(/\s+/g, '');
  } catch {
    return '';
  }
}

function onPath(command: string, searchPath: string): boolean {
  return searchPath.split(path.delimiter).some((dir) => dir && existsSync(path.join(dir, command)));
}
