import 'reflect-metadata'; // @peculiar/x509 resolves its ASN.1 services through tsyringe, which needs it
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/**
 * Certificate making, with @peculiar/x509 over Node's WebCrypto (ECDSA P-256: keys in a millisecond, a leaf
 * signed in a few). This module is heavy to load (~0.3 s, more on a busy machine): only the code that must
 * create a CA or issue a leaf imports it, and only when HTTPS is on; serving certificates already on disk never does.
 */
x509.cryptoProvider.set(webcrypto as never); // Node's WebCrypto; the library types it with the DOM's Crypto

type CryptoKey = webcrypto.CryptoKey;

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

export interface PemPair {
  certPem: string;
  keyPem: string;
}

/** A new certificate authority for this state folder: a self-signed CA that may sign leaves only (path length 0). */
export async function createAuthority(commonName: string, validDays: number): Promise<PemPair> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: [commonName] }, { O: ['portbroker'] }],
    notBefore: new Date(now - DAY_MS), // a clock a little behind must not reject it
    notAfter: new Date(now + validDays * DAY_MS),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: pem(cert), keyPem: await exportKey(keys.privateKey) };
}

/** A private key for leaves (one per state folder: a leaf is then only a signature, not a key generation). */
export async function createLeafKey(): Promise<string> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  return exportKey(keys.privateKey);
}

export interface LeafRequest {
  /** DNS names and IP literals the certificate is for (its subjectAltName). */
  names: string[];
  validDays: number;
  authority: PemPair;
  leafKeyPem: string;
}

/** A server certificate signed by the authority, for exactly the names asked (browsers reject `*.localhost`). */
export async function issueLeaf(request: LeafRequest): Promise<string> {
  const caCert = new x509.X509Certificate(request.authority.certPem);
  const caKey = await importKey(request.authority.keyPem, ['sign']);
  const leafPrivate = await importKey(request.leafKeyPem, ['sign'], true);
  const leafPublic = await publicKeyOf(leafPrivate);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: [{ CN: [request.names[0]!] }, { O: ['portbroker'] }],
    issuer: caCert.subject,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + request.validDays * DAY_MS),
    signingKey: caKey,
    publicKey: leafPublic,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension(request.names.map((name) => (isIp(name) ? { type: 'ip' as const, value: name } : { type: 'dns' as const, value: name }))),
      await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
    ],
  });
  return pem(cert);
}

/** PEM ending in a newline, so certificates concatenate into a chain. */
function pem(cert: x509.X509Certificate): string {
  return `${cert.toString('pem').trimEnd()}\n`;
}

async function exportKey(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
}

function importKey(pem: string, usages: webcrypto.KeyUsage[], extractable = false): Promise<CryptoKey> {
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  return webcrypto.subtle.importKey('pkcs8', der, ALGORITHM, extractable, usages) as Promise<CryptoKey>;
}

/** WebCrypto has no "public half of this private key": go through JWK, dropping the private part. */
async function publicKeyOf(privateKey: CryptoKey): Promise<CryptoKey> {
  const { d: _d, key_ops: _ops, ...jwk } = (await webcrypto.subtle.exportKey('jwk', privateKey)) as webcrypto.JsonWebKey;
  return webcrypto.subtle.importKey('jwk', jwk, ALGORITHM, true, ['verify']) as Promise<CryptoKey>;
}

/** 16 random bytes with the top bit clear: a positive serial no two certificates share. */
function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0]! &= 0x7f;
  return Buffer.from(bytes).toString('hex');
}

function isIp(name: string): boolean {
  return /^[\d.]+$/.test(name) || name.includes(':');
}
