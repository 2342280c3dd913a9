import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { startProxyServer } from '../../src/proxy/server.js';
import { fixture } from '../helpers/cli.js';
import { registerService, startUpstream } from '../proxy/helpers.js';
import { curl, startHttpsProxy } from './helpers.js';

/**
 * A client that connects by IP address sends no server name (TLS carries no IP literal in SNI): the proxy shows
 * it a certificate for the address it reached. Tests bind loopback only, so 127.0.0.2 (loopback on Linux) stands
 * in for a LAN address another machine would type under --lan.
 */

/** The certificate shown to a client that connects to `host` and sends no name; it must verify against `ca`. */
function certificateByAddress(host: string, port: number, ca: string): Promise<tls.PeerCertificate> {
  return new Promise((resolve, reject) => {
    // An IP host: Node sends no SNI, and checks the certificate's IP SAN against it.
    const socket = tls.connect({ host, port, ca, ALPNProtocols: ['http/1.1'] }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      resolve(cert);
    });
    socket.on('error', reject);
  });
}

describe('HTTPS by IP address (no SNI)', () => {
  it('shows a client of 127.0.0.1 a certificate for 127.0.0.1 (and localhost, ::1)', async () => {
    const fx = await fixture();
    const { ca, caFile } = await startHttpsProxy(fx);
    const cert = await certificateByAddress('127.0.0.1', fx.proxyPort, ca);
    expect(cert.subjectaltname).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    // curl checks the address against the certificate itself. The bare address is the dashboard's, which has no
    // HTTP/2 (express): a client asking for h2 is given HTTP/1.1 (an h2 request for it hung).
    const viaCurl = await curl(['--cacert', caFile, '--http2', '-o', '/dev/null', '-w', '%{http_code} %{http_version}', `https://127.0.0.1:${fx.proxyPort}/api/status`]);
    expect(viaCurl.stderr).toBe('');
    expect(viaCurl.stdout).toBe('200 1.1');
    const byName = await curl(['--cacert', caFile, '--http2', '-o', '/dev/null', '-w', '%{http_code} %{http_version}', `https://localhost:${fx.proxyPort}/api/status`]);
    expect(byName.stdout).toBe('200 1.1');
  });

  it('issues a certificate on demand for another address it is reached on, and serves names on it as before', async () => {
    const fx = await fixture();
    // The proxy in this process, listening on a second loopback address as --lan listens on a LAN one.
    const proxy = await startProxyServer({ home: fx.home, port: fx.proxyPort, https: true, lan: true, listenOn: ['127.0.0.2'], log: () => undefined });
    onTestFinished(() => proxy.close());
    const upstream = await startUpstream((req, res) => res.end(`${req.method} ${req.url} host=${req.headers.host}`));
    await registerService(fx.home, { service: 'web', port: upstream.port });

    const caFile = path.join(fx.home, 'certs', 'ca.pem');
    const ca = readFileSync(caFile, 'utf8');
    const leafFile = path.join(fx.home, 'certs', 'hosts', '127.0.0.2.pem');
    expect(existsSync(leafFile)).toBe(false);
    const first = await certificateByAddress('127.0.0.2', fx.proxyPort, ca);
    expect(first.subjectaltname).toBe('IP Address:127.0.0.2');
    expect(existsSync(leafFile)).toBe(true);
    expect((await certificateByAddress('127.0.0.2', fx.proxyPort, ca)).fingerprint256).toBe(first.fingerprint256);

    // curl, verifying the address against the CA. A client that sends no name is offered HTTP/1.1 only (on loopback
    // the bare address is the dashboard's, which has no h2); no service has an address for a name: 404.
    for (const version of ['--http1.1', '--http2']) {
      const reply = await curl(['--cacert', caFile, version, '-o', '/dev/null', '-w', '%{http_code} %{http_version}', `https://127.0.0.2:${fx.proxyPort}/`]);
      expect(reply.stderr).toBe('');
      expect(reply.stdout).toBe('404 1.1');
    }
    // A client that sends a name gets that name's certificate on the same address, and reaches its service.
    const named = await new Promise<tls.PeerCertificate>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.2', port: fx.proxyPort, servername: 'web.acme.localhost', ca }, () => {
        resolve(socket.getPeerCertificate());
        socket.end();
      });
      socket.on('error', reject);
    });
    expect(named.subjectaltname).toBe('DNS:web.acme.localhost');
    const viaName = await curl(['--cacert', caFile, '--resolve', `web.acme.localhost:${fx.proxyPort}:127.0.0.2`, `https://web.acme.localhost:${fx.proxyPort}/x`]);
    expect(viaName.stdout).toBe(`GET /x host=web.acme.localhost:${fx.proxyPort}`);
  });

  it('replaces the certificate of an address when it nears its end, without a restart', async () => {
    const fx = await fixture();
    const proxy = await startProxyServer({ home: fx.home, port: fx.proxyPort, https: true, lan: true, listenOn: ['127.0.0.2'], log: () => undefined });
    onTestFinished(() => proxy.close());
    const ca = readFileSync(path.join(fx.home, 'certs', 'ca.pem'), 'utf8');
    const first = await certificateByAddress('127.0.0.2', fx.proxyPort, ca);
    // 61 days on (a leaf lives 90, and is replaced 30 before its end). Only the proxy's clock moves: the new
    // leaf starts "in the future" for OpenSSL, so this client reads it without verifying.
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 61 * 86_400_000 });
    onTestFinished(() => void vi.useRealTimers());
    const renewed = await new Promise<tls.PeerCertificate>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.2', port: fx.proxyPort, rejectUnauthorized: false }, () => {
        resolve(socket.getPeerCertificate());
        socket.end();
      });
      socket.on('error', reject);
    });
    expect(renewed.subjectaltname).toBe('IP Address:127.0.0.2');
    expect(renewed.fingerprint256).not.toBe(first.fingerprint256);
    expect(Date.parse(renewed.valid_to)).toBeGreaterThan(Date.parse(first.valid_to));
  });
});
