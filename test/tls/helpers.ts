import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import path from 'node:path';
import tls from 'node:tls';
import { onTestFinished } from 'vitest';
import type { Fixture } from '../helpers/cli.js';

/** Starts the fixture's proxy with HTTPS on; returns the CA certificate the test trusts. */
export async function startHttpsProxy(fx: Fixture, env: NodeJS.ProcessEnv = {}): Promise<{ pid: number; ca: string; caFile: string }> {
  const result = await fx.run(['proxy', 'start', '--https', '--json'], { env, timeoutMs: 30_000 });
  if (result.code !== 0) throw new Error(`proxy start --https failed (${result.code}):\n${result.stdout}${result.stderr}`);
  const caFile = path.join(fx.home, 'certs', 'ca.pem');
  return { pid: (JSON.parse(result.stdout) as { pid: number }).pid, ca: readFileSync(caFile, 'utf8'), caFile };
}

export interface CurlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Real curl, with `*.localhost` names resolved to 127.0.0.1 by curl itself (--resolve). */
export function curl(args: string[]): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile('curl', ['--silent', '--show-error', '--max-time', '20', ...args], (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as NodeJS.ErrnoException & { code: unknown }).code) || 1 : 0, stdout, stderr });
    });
  });
}

/** The certificate the proxy shows for `servername` (a TLS handshake that verifies it against `ca`). */
export function peerCertificate(port: number, servername: string, ca: string): Promise<tls.PeerCertificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, ca, ALPNProtocols: ['http/1.1'] }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      resolve(cert);
    });
    socket.on('error', reject);
  });
}

/** An HTTP/2 session to the proxy for `servername`, closed when the test ends. */
export async function h2Session(port: number, servername: string, ca: string): Promise<http2.ClientHttp2Session> {
  const session = http2.connect(`https://127.0.0.1:${port}`, { servername, ca });
  onTestFinished(() => {
    session.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    session.once('remoteSettings', () => resolve());
    session.once('error', reject);
  });
  return session;
}

export interface H2Reply {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: string;
}

export function h2Get(session: http2.ClientHttp2Session, authority: string, urlPath = '/', extra: http2.OutgoingHttpHeaders = {}): Promise<H2Reply> {
  return h2Reply(session.request({ ':method': 'GET', ':path': urlPath, ':authority': authority, ...extra }));
}

/** A request stream's answer, read to its end (rejects when the stream ends with an error). */
export function h2Reply(stream: http2.ClientHttp2Stream): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    let headers: http2.IncomingHttpHeaders = {};
    let body = '';
    stream.setEncoding('utf8');
    stream.on('response', (h) => (headers = h));
    stream.on('data', (d: string) => (body += d));
    stream.on('end', () => resolve({ status: Number(headers[':status']), headers, body }));
    stream.on('error', reject);
  });
}

/** A client WebSocket text frame (RFC 6455: clients mask). */
export function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  if (payload.length > 125) throw new Error('test frames are short');
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

/** Unmasked server text frames, in order, from the bytes received so far (short frames only). */
export function readTextFrames(bytes: Buffer): string[] {
  const texts: string[] = [];
  let at = 0;
  while (at + 2 <= bytes.length) {
    const length = bytes[at + 1]! & 0x7f;
    if (length > 125 || at + 2 + length > bytes.length) break;
    if ((bytes[at]! & 0x0f) === 1) texts.push(bytes.subarray(at + 2, at + 2 + length).toString());
    at += 2 + length;
  }
  return texts;
}
