import { execFileSync } from 'node:child_process';
import { copyFileSync, rmSync } from 'node:fs';
import { PortbrokerError } from '../errors.js';
import { shellQuote } from '../platform/shell.js';
import type { CommonOptions } from '../project/context.js';
import { certificateFiles, ensureAuthority, readAuthorityCertificate } from '../tls/authority.js';
import { trustEnvironment, trustName, trustStores, type TrustAction, type TrustStore } from '../tls/trust-stores.js';
import { machineSettings } from './machine-settings.js';

export interface TrustOptions extends CommonOptions {
  /** Take the CA out of every store instead. */
  remove?: boolean;
}

export interface TrustStoreResult {
  id: string;
  label: string;
  /** added, removed, unchanged (already so), or pending (needs root: run `commands`). */
  outcome: 'added' | 'removed' | 'unchanged' | 'pending';
  /** The shell lines that make the change, for a pending store (with sudo). */
  commands: string[];
}

export interface TrustResult {
  /** The CA certificate file. */
  ca: string;
  fingerprint: string | null;
  stores: TrustStoreResult[];
}

/**
 * `portbroker trust [--remove]`: puts the state folder's CA into this machine's trust stores (the system store
 * of Debian/Ubuntu, Fedora/RHEL, Arch or macOS, and every NSS database of Chromium and Firefox), or takes it out.
 * What needs root and is not run as root is not attempted: its exact commands come back to be run with sudo.
 */
export async function trust(options: TrustOptions = {}): Promise<TrustResult> {
  const settings = await machineSettings(options);
  const files = certificateFiles(settings.home);
  const certificate = options.remove ? readAuthorityCertificate(settings.home) : (await ensureAuthority(settings.home)).certificate;
  if (!certificate) return { ca: files.authority, fingerprint: null, stores: [] };
  const name = trustName(certificate.fingerprint256);
  const stores = trustStores(trustEnvironment(options.env ?? process.env), name);
  if (stores.length === 0) {
    throw new PortbrokerError('no trust store found on this machine (no update-ca-certificates, update-ca-trust, security or certutil)', {
      details: [`import ${files.authority} into your browser or system by hand`],
    });
  }
  const pem = certificate.toString();
  return { ca: files.authority, fingerprint: certificate.fingerprint256, stores: stores.map((store) => apply(store, options.remove === true, pem, files.authority)) };
}

function apply(store: TrustStore, remove: boolean, pem: string, certFile: string): TrustStoreResult {
  const base = { id: store.id, label: store.label, commands: [] as string[] };
  const actions = remove ? store.remove() : store.contains(pem) ? [] : store.add(certFile);
  if (actions.length === 0) return { ...base, outcome: 'unchanged' };
  const root = process.getuid?.() === 0;
  if (store.system && !root) {
    return { ...base, outcome: 'pending', commands: actions.map((action) => `sudo ${shellLine(action)}`) };
  }
  for (const action of actions) run(action, store);
  return { ...base, outcome: remove ? 'removed' : 'added' };
}

function run(action: TrustAction, store: TrustStore): void {
  try {
    if (action.kind === 'copy') copyFileSync(action.from, action.to);
    else if (action.kind === 'delete') rmSync(action.file, { force: true });
    else execFileSync(action.argv[0]!, action.argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new PortbrokerError(`could not change ${store.label}: ${shellLine(action)} failed: ${stderr || (error as Error).message}`, {
      details: ['run it by hand to see why, then `portbroker trust` again'],
    });
  }
}

function shellLine(action: TrustAction): string {
  if (action.kind === 'copy') return `cp ${shellQuote(action.from)} ${shellQuote(action.to)}`;
  if (action.kind === 'delete') return `rm -f ${shellQuote(action.file)}`;
  return action.argv.map(shellQuote).join(' ');
}
