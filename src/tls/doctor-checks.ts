import { readFileSync, statSync } from 'node:fs';
import { certificateFiles, readAuthorityCertificate } from './authority.js';
import { trustEnvironment, trustName, trustStores } from './trust-stores.js';

/** A doctor check, as `portbroker doctor` prints it. */
export interface CertificateCheck {
  id: string;
  status: 'ok' | 'warn' | 'fail';
  message: string;
  fix?: string;
}

const WARN_BEFORE_DAYS = 180;

/**
 * HTTPS checks: the CA is there, private and not near its end, and trusted (the system store and the browsers'
 * NSS databases); and a privileged proxy port (443) can be bound. Nothing is said when HTTPS is off and no CA exists.
 */
export function certificateChecks(options: { home: string; https: boolean; proxyPort: number; env?: NodeJS.ProcessEnv }): CertificateCheck[] {
  const checks: CertificateCheck[] = [];
  if (options.https && options.proxyPort < 1024) checks.push(privilegedPort(options.proxyPort));
  const files = certificateFiles(options.home);
  let certificate;
  try {
    certificate = readAuthorityCertificate(options.home);
  } catch (error) {
    return [...checks, { id: 'ca', status: 'fail', message: `the CA ${files.authority} cannot be read: ${(error as Error).message}`, fix: `remove ${files.dir} and start the proxy with --https to make a new one, then \`portbroker trust\`` }];
  }
  if (!certificate) {
    if (options.https) checks.push({ id: 'ca', status: 'warn', message: 'no local CA yet (HTTPS is on)', fix: 'it is made when the proxy first serves HTTPS; `portbroker trust` makes and trusts it now' });
    return checks;
  }
  const ends = Date.parse(certificate.validTo);
  const days = Math.floor((ends - Date.now()) / 86_400_000);
  const renew = `remove ${files.dir}, restart the proxy (portbroker proxy stop) and run \`portbroker trust\``;
  if (days < 0) checks.push({ id: 'ca', status: 'fail', message: `the local CA expired on ${certificate.validTo}`, fix: renew });
  else if (days < WARN_BEFORE_DAYS) checks.push({ id: 'ca', status: 'warn', message: `the local CA ends in ${days} days (${certificate.validTo})`, fix: renew });
  else checks.push({ id: 'ca', status: 'ok', message: `local CA ${files.authority} valid until ${certificate.validTo}` });
  const keyMode = modeOf(files.authorityKey);
  if (keyMode !== undefined && (keyMode & 0o077) !== 0) {
    checks.push({ id: 'ca-key', status: 'fail', message: `the CA key ${files.authorityKey} is readable by others (mode ${keyMode.toString(8)})`, fix: `chmod 600 ${files.authorityKey}` });
  }
  const pem = readFileSync(files.authority, 'utf8');
  const stores = trustStores(trustEnvironment(options.env), trustName(certificate.fingerprint256));
  const missing = stores.filter((store) => !store.contains(pem));
  if (stores.length === 0) checks.push({ id: 'ca-trust', status: 'warn', message: 'no trust store found to check the CA against', fix: `import ${files.authority} into your browser by hand` });
  else if (missing.length > 0) checks.push({ id: 'ca-trust', status: 'warn', message: `the local CA is not trusted by ${missing.map((s) => s.label).join(', ')}`, fix: 'portbroker trust' });
  else checks.push({ id: 'ca-trust', status: 'ok', message: `the local CA is trusted by ${stores.map((s) => s.label).join(', ')}` });
  return checks;
}

/** Whether this user may listen on a port below 1024, and why (root, a capability, or the sysctl). */
function privilegedPort(port: number): CertificateCheck {
  const id = 'privileged-port';
  if (process.getuid?.() === 0) return { id, status: 'ok', message: `port ${port}: root may listen on it` };
  const unprivilegedFrom = Number(readText('/proc/sys/net/ipv4/ip_unprivileged_port_start'));
  if (Number.isInteger(unprivilegedFrom) && unprivilegedFrom <= port) return { id, status: 'ok', message: `port ${port}: net.ipv4.ip_unprivileged_port_start is ${unprivilegedFrom}, anyone may listen on it` };
  const capabilities = /CapEff:\s*([0-9a-f]+)/.exec(readText('/proc/self/status'))?.[1];
  // CAP_NET_BIND_SERVICE is capability 10: node itself was given it (setcap).
  if (capabilities && (BigInt(`0x${capabilities}`) & (1n << 10n)) !== 0n) return { id, status: 'ok', message: `port ${port}: node has CAP_NET_BIND_SERVICE` };
  return {
    id,
    status: 'fail',
    message: `port ${port} needs privileges this user does not have`,
    fix: `sudo sysctl -w net.ipv4.ip_unprivileged_port_start=${port} (or: sudo setcap cap_net_bind_service=+ep ${process.execPath}), or a port above 1023`,
  };
}

function modeOf(file: string): number | undefined {
  try {
    return statSync(file).mode & 0o777;
  } catch {
    return undefined;
  }
}

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
