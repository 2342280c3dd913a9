import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import writeFileAtomic from 'write-file-atomic';
import { laterPartOfThisBuild } from '../platform/build-stamp.js';
import { certificateFiles, ensureAuthority, type Authority } from './authority.js';

/** The certificate issuer (@peculiar/x509), loaded when a certificate is first made: most starts need none. */
const x509 = laterPartOfThisBuild(() => import('./x509.js'));

/** A leaf lives 90 days and is replaced once fewer than 30 remain (a proxy may run for weeks). */
const LEAF_DAYS = 90;
const RENEW_BEFORE_MS = 30 * 86_400_000;
/** Names remembered in memory; any *.localhost name may be asked for, so the cache is bounded. */
const MAX_CACHED = 1_000;
/** What a client that sends no server name to a loopback address (https://127.0.0.1:7355/) is shown. */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];
const LOOPBACK = 'loopback';

/** A key and certificate chain, as `tls.createServer` takes them, and when to replace them. */
export interface Identity {
  key: string;
  cert: string;
  renewAt: number;
}

interface Leaf {
  context: tls.SecureContext;
  /** The leaf followed by the CA. */
  chain: string;
  renewAt: number;
}

/**
 * A certificate per host name, issued by the state folder's CA on first use (SNI), kept on disk in
 * `certs/hosts/` and in memory, and issued again when it nears its end or the CA changed.
 */
export class CertificateStore {
  private readonly cache = new Map<string, Leaf>();
  private readonly pending = new Map<string, Promise<Leaf>>();

  private constructor(
    private readonly home: string,
    private readonly authority: Authority,
    private readonly leafKeyPem: string,
  ) {}

  static async open(home: string): Promise<CertificateStore> {
    const authority = await ensureAuthority(home);
    const store = new CertificateStore(home, authority, await ensureLeafKey(home));
    await store.forAddress('127.0.0.1'); // on disk from the start: a daemon serving only loopback never issues
    return store;
  }

  /**
   * What a client that sends no server name is shown: one that connects by IP address (TLS carries no IP literal
   * in SNI), e.g. another machine at https://192.168.1.20:7355/ under --lan. The certificate is for the address it
   * reached (`address`, the connection's local one); on 127.0.0.1 and ::1 it also names localhost.
   */
  async forAddress(address: string): Promise<Identity> {
    const name = addressIdentity(address);
    const leaf = await this.leafFor(name, name === LOOPBACK ? LOOPBACK_NAMES : [name]);
    return { key: this.leafKeyPem, cert: leaf.chain, renewAt: leaf.renewAt };
  }

  /** The TLS context for `name` (already checked to be a name the proxy serves). */
  async contextFor(name: string): Promise<tls.SecureContext> {
    const cached = this.cache.get(name);
    if (cached && cached.renewAt > Date.now()) {
      this.cache.delete(name); // least recently used goes first
      this.cache.set(name, cached);
      return cached.context;
    }
    let pending = this.pending.get(name);
    if (!pending) {
      pending = this.leafFor(name, [name]).finally(() => this.pending.delete(name));
      this.pending.set(name, pending);
    }
    const leaf = await pending;
    this.cache.set(name, leaf);
    if (this.cache.size > MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
    return leaf.context;
  }

  private async leafFor(file: string, names: string[]): Promise<Leaf> {
    const leaves = certificateFiles(this.home).leaves;
    const certFile = path.join(leaves, `${file}.pem`);
    let certPem = existsSync(certFile) ? readFileSync(certFile, 'utf8') : undefined;
    let renewAt = certPem ? this.usableUntil(certPem) : 0;
    if (renewAt <= Date.now()) {
      const { issueLeaf } = await x509();
      certPem = await issueLeaf({ names, validDays: LEAF_DAYS, authority: this.authority, leafKeyPem: this.leafKeyPem });
      mkdirSync(leaves, { recursive: true, mode: 0o700 });
      await writeFileAtomic(certFile, certPem, { mode: 0o600 });
      renewAt = this.usableUntil(certPem);
    }
    // The chain carries the CA too: a client that trusts it by fingerprint only still gets the whole path.
    const chain = certPem! + this.authority.certPem;
    return { context: tls.createSecureContext({ key: this.leafKeyPem, cert: chain }), chain, renewAt };
  }

  /** When a leaf on disk must be replaced: 30 days before its end, or now if another CA signed it. */
  private usableUntil(certPem: string): number {
    try {
      const cert = new X509Certificate(certPem);
      if (!cert.checkIssued(this.authority.certificate) || !cert.verify(this.authority.certificate.publicKey)) return 0;
      if (!cert.checkPrivateKey(createPrivateKey(this.leafKeyPem))) return 0; // the leaf key was replaced
      return Date.parse(cert.validTo) - RENEW_BEFORE_MS;
    } catch {
      return 0; // unreadable: issue a new one
    }
  }
}

/**
 * Which certificate `forAddress` shows on `address`: 127.0.0.1 and ::1 share one (its file `loopback.pem`, a name
 * no SNI request can ask for: `localhost.pem` is the certificate for exactly `localhost`).
 */
export function addressIdentity(address: string): string {
  return address === '127.0.0.1' || address === '::1' ? LOOPBACK : address;
}

async function ensureLeafKey(home: string): Promise<string> {
  const file = certificateFiles(home).leafKey;
  if (existsSync(file)) return readFileSync(file, 'utf8');
  const { createLeafKey } = await x509();
  const pem = await createLeafKey();
  // Two proxies never run on one state folder at once; a lost race would only replace the key and its leaves.
  await writeFileAtomic(file, pem, { mode: 0o600 });
  return pem;
}
