import { once } from 'node:events';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { ensureAuthority } from '../../src/tls/authority.js';
import { createAuthority, createLeafKey, issueLeaf } from '../../src/tls/x509.js';
import { fixture } from '../helpers/cli.js';
import { get, registerService, startUpstream, until } from '../proxy/helpers.js';
import { curl, h2Get, h2Session, maskedTextFrame, peerCertificate, readTextFrames, startHttpsProxy } from './helpers.js';

/**
 * HTTPS on the proxy port, end to end: the real daemon started by the CLI with --https, real curl, Node's own
 * TLS, HTTP/2 and WebSocket clients, real upstream servers. Every client trusts the fixture's own CA by file.
 */

async function setUp() {
  const fx = await fixture();
  const { ca, caFile } = await startHttpsProxy(fx);
  const upstream = await startUpstream((req, res) => {
    res.setHeader('connection', 'keep-alive'); // hop-by-hop: must not reach an HTTP/2 client
    res.end(`${req.method} ${req.url} host=${req.headers.host} proto=${req.headers['x-forwarded-proto']}`);
  });
  await registerService(fx.home, { service: 'web', port: upstream.port });
  await registerService(fx.home, { service: 'api', port: upstream.port });
  const port = fx.proxyPort;
  const resolve = (name: string) => ['--resolve', `${name}:${port}:127.0.0.1`, '--cacert', caFile];
  return { fx, ca, caFile, upstream, port, resolve };
}

describe('HTTPS on the proxy port', () => {
  it('serves curl over HTTP/1.1 and HTTP/2 with a certificate the CA vouches for', async () => {
    const { port, resolve } = await setUp();
    const url = `https://web.acme.localhost:${port}/hello?x=1`;
    const h1 = await curl([...resolve('web.acme.localhost'), '--http1.1', '-w', '\n%{http_version}', url]);
    expect(h1.stderr).toBe('');
    expect(h1.stdout).toBe(`GET /hello?x=1 host=web.acme.localhost:${port} proto=https\n1.1`);
    const h2 = await curl([...resolve('web.acme.localhost'), '--http2', '-i', '-w', '\n%{http_version}', url]);
    expect(h2.code).toBe(0);
    expect(h2.stdout).toMatch(/^HTTP\/2 200/);
    expect(h2.stdout).not.toMatch(/^connection:/im);
    expect(h2.stdout).toMatch(new RegExp(`GET /hello\\?x=1 host=web.acme.localhost:${port} proto=https\\n2$`));
  });

  it('issues one certificate per name, for exactly that name, and keeps the keys private', async () => {
    const { fx, ca, port } = await setUp();
    const web = await peerCertificate(port, 'web.acme.localhost', ca);
    const api = await peerCertificate(port, 'api.acme.localhost', ca);
    expect(web.subjectaltname).toBe('DNS:web.acme.localhost');
    expect(api.subjectaltname).toBe('DNS:api.acme.localhost');
    expect(api.fingerprint256).not.toBe(web.fingerprint256);
    // Asked again, the same name gets the same certificate (cached, not issued per connection).
    expect((await peerCertificate(port, 'web.acme.localhost', ca)).fingerprint256).toBe(web.fingerprint256);
    const mode = (file: string) => statSync(path.join(fx.home, 'certs', file)).mode & 0o777;
    expect(mode('.')).toBe(0o700);
    expect(mode('ca-key.pem')).toBe(0o600);
    expect(mode('leaf-key.pem')).toBe(0o600);
  });

  it('replaces a certificate on disk that nears its end, or that another CA signed', async () => {
    const fx = await fixture();
    const authority = await ensureAuthority(fx.home);
    const other = await createAuthority('some other CA', 30);
    const leafKeyPem = await createLeafKey();
    const hosts = path.join(fx.home, 'certs', 'hosts');
    mkdirSync(hosts, { recursive: true });
    writeFileSync(path.join(fx.home, 'certs', 'leaf-key.pem'), leafKeyPem, { mode: 0o600 });
    const ending = await issueLeaf({ names: ['web.acme.localhost'], validDays: 10, authority, leafKeyPem });
    writeFileSync(path.join(hosts, 'web.acme.localhost.pem'), ending);
    writeFileSync(path.join(hosts, 'api.acme.localhost.pem'), await issueLeaf({ names: ['api.acme.localhost'], validDays: 90, authority: other, leafKeyPem }));
    const { ca } = await startHttpsProxy(fx);
    const web = await peerCertificate(fx.proxyPort, 'web.acme.localhost', ca);
    expect(Date.parse(web.valid_to) - Date.now()).toBeGreaterThan(60 * 86_400_000);
    expect(web.fingerprint256).not.toBe(new X509Certificate(ending).fingerprint256);
    // Verified against our CA (peerCertificate trusts only it): the other CA's leaf was replaced, not served.
    expect((await peerCertificate(fx.proxyPort, 'api.acme.localhost', ca)).subjectaltname).toBe('DNS:api.acme.localhost');
  });

  it('redirects plain HTTP on the same port to https://, and refuses foreign names there too', async () => {
    const { port } = await setUp();
    const reply = await get(port, `web.acme.localhost:${port}`, { path: '/a/b?c=d', method: 'POST', body: 'x' });
    expect(reply.status).toBe(308);
    expect(reply.headers.location).toBe(`https://web.acme.localhost:${port}/a/b?c=d`);
    expect((await get(port, 'evil.example.com')).status).toBe(403);
  });

  it('fails the handshake cleanly for a name it does not serve, and goes on serving', async () => {
    const { ca, port, resolve } = await setUp();
    const refused = await new Promise<Error>((done) => {
      const socket = tls.connect({ host: '127.0.0.1', port, servername: 'evil.example.com', ca }, () => done(new Error('handshake succeeded')));
      socket.on('error', done);
    });
    expect(refused.message).toMatch(/alert|disconnected before secure TLS connection|socket hang up|ECONNRESET/i);
    const viaCurl = await curl(['--resolve', `evil.example.com:${port}:127.0.0.1`, '--cacert', resolve('x')[3]!, `https://evil.example.com:${port}/`]);
    expect(viaCurl.code).toBe(35); // curl: SSL connect error
    const after = await curl([...resolve('web.acme.localhost'), `https://web.acme.localhost:${port}/`]);
    expect(after.stdout).toMatch(/^GET \/ /);
  });

  it('relays a WebSocket over HTTPS/1.1 (wss://)', async () => {
    const { fx, ca, port } = await setUp();
    const upstream = await startUpstream((_req, res) => res.end('not a socket'));
    const wss = new WebSocketServer({ server: upstream.server });
    wss.on('connection', (socket, req) => {
      socket.send(`proto ${req.headers['x-forwarded-proto']}`);
      socket.on('message', (data) => socket.send(`echo ${data.toString()}`));
    });
    await registerService(fx.home, { service: 'ws', port: upstream.port });
    const client = new WebSocket(`wss://127.0.0.1:${port}/hmr`, 'vite-hmr', { ca, servername: 'ws.acme.localhost', headers: { host: `ws.acme.localhost:${port}` } } as WebSocket.ClientOptions);
    const messages: string[] = [];
    client.on('message', (data) => messages.push(data.toString()));
    await once(client, 'open');
    client.send('one');
    await until(() => messages.length === 2, 'two messages');
    expect(messages).toEqual(['proto wss', 'echo one']);
    client.close();
    await once(client, 'close');
    wss.close();
  });

  it('bridges a WebSocket over HTTP/2 extended CONNECT (RFC 8441) to an HTTP/1.1 upgrade upstream', async () => {
    const { fx, ca, port } = await setUp();
    const upstream = await startUpstream((_req, res) => res.end('not a socket'));
    const wss = new WebSocketServer({ server: upstream.server });
    wss.on('connection', (socket, req) => {
      socket.send(`path ${req.url} host ${req.headers.host} protocol ${socket.protocol}`);
      socket.on('message', (data) => socket.send(`echo ${data.toString()}`));
    });
    await registerService(fx.home, { service: 'ws', port: upstream.port });
    const session = await h2Session(port, 'ws.acme.localhost', ca);
    expect(session.remoteSettings.enableConnectProtocol).toBe(true);
    const stream = session.request(
      { ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https', ':path': '/hmr', ':authority': `ws.acme.localhost:${port}`, 'sec-websocket-version': '13', 'sec-websocket-protocol': 'vite-hmr' },
      { endStream: false },
    );
    const [response] = (await once(stream, 'response')) as [Record<string, string | number>];
    expect(response[':status']).toBe(200);
    expect(response['sec-websocket-protocol']).toBe('vite-hmr');
    let received = Buffer.alloc(0);
    stream.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
    stream.write(maskedTextFrame('over h2'));
    await until(() => readTextFrames(received).length === 2, 'two frames');
    expect(readTextFrames(received)).toEqual([`path /hmr host ws.acme.localhost:${port} protocol vite-hmr`, 'echo over h2']);
    stream.close();
    wss.close();
  });

  it('answers 1,000 concurrent HTTP/2 streams over a bounded set of upstream connections', async () => {
    const fx = await fixture();
    const { ca } = await startHttpsProxy(fx);
    let inFlight = 0;
    let peak = 0;
    const upstream = await startUpstream((req, res) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      // Hold each answer a moment, so the requests really overlap upstream.
      setTimeout(() => {
        inFlight--;
        res.end(`answer ${req.url}`);
      }, 5);
    });
    await registerService(fx.home, { service: 'web', port: upstream.port });
    const session = await h2Session(fx.proxyPort, 'web.acme.localhost', ca);
    const replies = await Promise.all(Array.from({ length: 1000 }, (_, i) => h2Get(session, `web.acme.localhost:${fx.proxyPort}`, `/${i}`)));
    expect(replies.filter((r) => r.status !== 200).slice(0, 2)).toEqual([]);
    expect(replies.every((r, i) => r.body === `answer /${i}`)).toBe(true);
    expect(upstream.connections.length).toBeGreaterThan(1);
    expect(upstream.connections.length).toBeLessThanOrEqual(32);
    expect(peak).toBeGreaterThan(1);
  });

  it('serves the dashboard over HTTPS/1.1 (it has no h2): its name is offered no h2, and h2 elsewhere gets a 421', async () => {
    const { ca, port, resolve } = await setUp();
    const status = await curl([...resolve('portbroker.localhost'), '--http2', '-w', '\n%{http_code} %{http_version}', `https://portbroker.localhost:${port}/api/status`]);
    expect(status.stdout).toMatch(/\n200 1\.1$/);
    expect(JSON.parse(status.stdout.slice(0, status.stdout.lastIndexOf('\n')))).toMatchObject({ port });
    const session = await h2Session(port, 'web.acme.localhost', ca);
    expect((await h2Get(session, `portbroker.localhost:${port}`, '/api/status')).status).toBe(421);
    expect((await h2Get(session, `web.acme.localhost:${port}`, '/after')).body).toMatch(/^GET \/after /);
  });

  it('serves the proxy pages over HTTP/2 too (404 for an unknown service lists what runs)', async () => {
    const { ca, port } = await setUp();
    const session = await h2Session(port, 'nope.acme.localhost', ca);
    const reply = await h2Get(session, `nope.acme.localhost:${port}`, '/', { accept: 'text/plain' });
    expect(reply.status).toBe(404);
    expect(reply.body).toContain('web.acme.localhost');
  });
});

void http;
