import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { statePaths } from '../platform/paths.js';

/** The CA lives ten years; `doctor` warns well before that. */
const AUTHORITY_DAYS = 3650;

/** Where the local CA and the certificates it issued live: `certs/` in the state folder (0700, keys 0600). */
export function certificateFiles(home: string) {
  const dir = statePaths(home).certs;
  return {
    dir,
    /** The CA certificate: what `trust` installs and services get as NODE_EXTRA_CA_CERTS. */
    authority: path.join(dir, 'ca.pem'),
    authorityKey: path.join(dir, 'ca-key.pem'),
    /** One key for every leaf: issuing a name's certificate is then a signature only. */
    leafKey: path.join(dir, 'leaf-key.pem'),
    leaves: path.join(dir, 'hosts'),
    lock: path.join(dir, 'ca'),
  };
}

export interface Authority {
  certPem: string;
  keyPem: string;
  certificate: X509Certificate;
}

/** The CA of this state folder as it is on disk, or undefined when there is none (yet). */
export function readAuthority(home: string): Authority | undefined {
  const files = certificateFiles(home);
  // The key is written before the certificate: a certificate on disk always has its key.
  if (!existsSync(files.authority)) return undefined;
  const certPem = readFileSync(files.authority, 'utf8');
  return { certPem, keyPem: readFileSync(files.authorityKey, 'utf8'), certificate: new X509Certificate(certPem) };
}

/** The CA certificate alone (doctor, trust), without reading the key. */
export function readAuthorityCertificate(home: string): X509Certificate | undefined {
  const file = certificateFiles(home).authority;
  return existsSync(file) ? new X509Certificate(readFileSync(file)) : undefined;
}

/**
 * The CA of this state folder, created on first use. Two processes may ask at once (the proxy daemon and
 * `trust`): creation runs under a lock, so both end up with the same CA.
 */
export async function ensureAuthority(home: string): Promise<Authority> {
  const existing = readAuthority(home);
  if (existing) return existing;
  const files = certificateFiles(home);
  mkdirSync(files.dir, { recursive: true, mode: 0o700 });
  const { default: lockfile } = await import('proper-lockfile');
  const release = await lockfile.lock(files.dir, { lockfilePath: `${files.lock}.lock`, retries: { retries: 50, minTimeout: 50, maxTimeout: 200 }, stale: 10_000 });
  try {
    const raced = readAuthority(home);
    if (raced) return raced;
    const { createAuthority } = await import('./x509.js');
    const { certPem, keyPem } = await createAuthority(`portbroker CA ${os.userInfo().username}@${os.hostname()}`, AUTHORITY_DAYS);
    await writeFileAtomic(files.authorityKey, keyPem, { mode: 0o600 });
    await writeFileAtomic(files.authority, certPem, { mode: 0o644 });
    return { certPem, keyPem, certificate: new X509Certificate(certPem) };
  } finally {
    await release();
  }
}
