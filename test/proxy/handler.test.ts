import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboard } from '../../src/dashboard/app.js';
import { updateRegistry } from '../../src/ports/registry.js';
import { ActivityReporter } from '../../src/proxy/activity.js';
import { Forwarder, UpstreamAgents } from '../../src/proxy/forward.js';
import { createProxyHandler } from '../../src/proxy/handler.js';
import { RefusalLog } from '../../src/proxy/refusals.js';
import { RouteSource } from '../../src/proxy/route-source.js';
import { ConnectionStats } from '../../src/proxy/stats.js';
import { UpstreamDialer } from '../../src/proxy/upstream.js';

/**
 * The general path's request handler, driven with supertest: routing, the rebinding guard, the loop guard and
 * the pages. Upstreams are real servers; the routes come from a real registry in a temp state folder.
 */

const PORT = 7355; // what the pages put in links; the test server itself listens on a random port
let home: string;
let server: http.Server;
let routes: RouteSource;
let forwarder: Forwarder;
let agents: UpstreamAgents;
const upstreams: http.Server[] = [];
const seen: Array<{ name: string; headers: http.IncomingHttpHeaders }> = [];

async function upstream(name: string, host = '127.0.0.1'): Promise<number> {
  const s = http.createServer((req, res) => {
    seen.push({ name, headers: req.headers });
    res.setHeader('content-type', 'text/plain');
    res.end(`this is ${name}`);
  });
  await new Promise<void>((resolve) => s.listen({ host, port: 0, ipv6Only: host === '::1' }, resolve));
  upstreams.push(s);
  return (s.address() as net.AddressInfo).port;
}

/** A port nothing listens on (a service that died). */
async function deadPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

function service(port: number, extra: Record<string, unknown> = {}) {
  return { port, proxy: true, hostnames: [], state: 'running' as const, pid: process.pid, reservedAt: new Date().toISOString(), ...extra };
}

beforeAll(async () => {
  home = mkdtempSync(path.join(os.tmpdir(), 'pb-handler-'));
  const [acmeWeb, acmeApi, globexApi, worktreeWeb, docker, docs] = await Promise.all([
    upstream('acme web'),
    upstream('acme api', '::1'),
    upstream('globex api'),
    upstream('fix-login web'),
    upstream('docker api'),
    upstream('globex docs'),
  ]);
  const stoppedPort = await deadPort();
  const refusedPort = await deadPort();
  const logDir = path.join(home, 'logs', 'acme');
  mkdirSync(logDir, { recursive: true });
  writeFileSync(path.join(logDir, 'admin.log'), 'admin listening\n\u001b[31mError: <script>alert("log")</script>\u001b[0m\nexit 1\n');
  writeFileSync(path.join(logDir, 'gone.log'), 'gone: serving\n');
  await updateRegistry(home, (data) => {
    data.checkouts['/src/acme'] = {
      project: 'acme',
      label: '',
      root: '/src/acme',
      invokedAs: 'npx portbroker',
      services: {
        web: service(acmeWeb, { hostnames: ['app', 'shop.example.localhost'] }),
        api: service(acmeApi),
        admin: service(stoppedPort, { state: 'crashed', pid: undefined, command: 'node admin.js --title "<img src=x onerror=alert(1)>"' }),
        gone: service(refusedPort, { command: 'node gone.js' }),
        db: service(5432, { proxy: false }),
      },
    };
    data.checkouts['/src/acme-fix'] = { project: 'acme', label: 'fix-login', root: '/src/acme-fix', services: { web: service(worktreeWeb, { state: 'stopped', pid: undefined }) } };
    data.checkouts['/src/globex'] = { project: 'globex', label: '', root: '/src/globex', services: { api: service(globexApi), docs: service(docs) } };
    data.checkouts['/src/xss'] = { project: 'x<img src=x onerror=alert(2)>', label: '', root: '/src/xss', services: { ui: service(docs) } };
    data.aliases['docker-api.localhost'] = { port: docker, createdAt: new Date().toISOString() };
  });
  routes = new RouteSource({ home, onWarning: () => undefined });
  const stats = new ConnectionStats();
  agents = new UpstreamAgents(new UpstreamDialer(), stats);
  forwarder = new Forwarder(agents);
  const handler = createProxyHandler({
    routes,
    port: PORT,
    lan: false,
    startTimeoutMs: 2_000,
    activity: new ActivityReporter(),
    forwarder,
    refusals: new RefusalLog(() => undefined, stats),
    dashboard: createDashboard({ home, info: () => ({ pid: process.pid, port: PORT, addresses: ['127.0.0.1'], startedAt: new Date(), routes: routes.current.routes, stats: stats.snapshot(), requests: stats.requests, refusals: stats.refusals }) }),
  });
  server = http.createServer(handler.request);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  routes?.close();
  forwarder?.close();
  agents?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  for (const s of upstreams) {
    s.closeAllConnections();
    s.close();
  }
  rmSync(home, { recursive: true, force: true });
});

const to = (host: string, urlPath = '/') => request(server).get(urlPath).set('Host', host);

describe('routing', () => {
  it.each([
    ['web.acme.localhost', 'this is acme web'],
    ['web.localhost', 'this is acme web'], // one web is running: the stopped worktree does not make it ambiguous
    ['app.localhost', 'this is acme web'], // hostnames: a bare label
    ['shop.example.localhost', 'this is acme web'], // hostnames: a full name
    ['api.acme.localhost', 'this is acme api'], // upstream on ::1 only
    ['api.globex.localhost', 'this is globex api'],
    ['docs.localhost', 'this is globex docs'],
    ['docker-api.localhost', 'this is docker api'], // alias
    ['WEB.Acme.LocalHost.:7355', 'this is acme web'], // case, trailing dot, port suffix
    ['web.acme.localhost:80', 'this is acme web'],
  ])('%s reaches its service', async (host, body) => {
    const res = await to(host);
    expect(res.status).toBe(200);
    expect(res.text).toBe(body);
  });

  it('keeps the Host and adds X-Forwarded-* and the hop count', async () => {
    seen.length = 0;
    await to('web.acme.localhost:7355', '/x?y=1').expect(200);
    const headers = seen.at(-1)!.headers;
    expect(headers.host).toBe('web.acme.localhost:7355');
    expect(headers['x-forwarded-host']).toBe('web.acme.localhost:7355');
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers['x-forwarded-for']).toMatch(/127\.0\.0\.1/);
    expect(headers['x-portbroker-hops']).toBe('1');
  });

  it('lists the canonical URLs when a short name is ambiguous', async () => {
    const html = await to('api.localhost');
    expect(html.status).toBe(300);
    expect(html.text).toContain('href="http://api.acme.localhost:7355/"');
    expect(html.text).toContain('href="http://api.globex.localhost:7355/"');
    const json = await to('api.localhost:7355').set('Accept', 'application/json');
    expect(json.status).toBe(300);
    expect(json.body.candidates.map((c: { url: string }) => c.url)).toEqual(['http://api.acme.localhost:7355/', 'http://api.globex.localhost:7355/']);
  });

  it('answers an unknown name with a 404 linking the running services only', async () => {
    const res = await to('nope.localhost:7355');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.text).toContain('href="http://web.acme.localhost:7355/"');
    expect(res.text).toContain('href="http://docker-api.localhost:7355/"');
    expect(res.text).not.toContain('admin.acme.localhost'); // crashed
    expect(res.text).not.toContain('web.fix-login.acme.localhost'); // stopped
    expect(res.text).not.toContain('db.acme.localhost'); // proxy: false
    const json = await to('nope.localhost:7355').set('Accept', 'application/json');
    expect(json.body).toMatchObject({ status: 404, error: 'unknown-host', host: 'nope.localhost' });
    expect(json.body.services).toContainEqual({ name: 'web of acme', url: 'http://web.acme.localhost:7355/' });
  });

  it('serves the dashboard on portbroker.localhost', async () => {
    const page = await to('portbroker.localhost:7355');
    expect(page.status).toBe(200);
    expect(page.text).toContain('/assets/dashboard.js');
    const services = await to('portbroker.localhost', '/api/v1/services').expect(200);
    expect(services.body).toContainEqual(expect.objectContaining({ url: 'http://web.acme.localhost:7355', state: 'running' }));
    const api = await to('portbroker.localhost', '/api/routes').expect(200);
    expect(api.body).toContainEqual(expect.objectContaining({ host: 'web.acme.localhost', kind: 'service', state: 'running' }));
    expect(api.body).toContainEqual(expect.objectContaining({ host: 'docker-api.localhost', kind: 'alias' }));
  });
});

describe('DNS-rebinding guard', () => {
  it.each(['evil.com', 'localhost.evil.com', 'web.acme.localhost.evil.com', '127.0.0.1.nip.io', '10.0.0.1', '192.168.1.20:7355', '0.0.0.0', '[::]', '[2001:db8::1]'])(
    'refuses Host %s with 403 and a reason',
    async (host) => {
      const res = await to(host).set('Accept', 'application/json');
      expect(res.status).toBe(403);
      expect(res.body.error).toBe('blocked-host');
      expect(res.body.message).toMatch(/not a local name/);
    },
  );

  it.each(['localhost', '127.0.0.1:7355', '[::1]:7355'])('serves Host %s (the dashboard)', async (host) => {
    const res = await to(host);
    expect(res.status).toBe(200);
    expect(res.text).toContain('<title>portbroker</title>');
  });

  it('serves another loopback literal (404 listing the services)', async () => {
    const res = await to('127.1.2.3');
    expect(res.status).toBe(404);
  });

  it('answers a request without Host with 400', async () => {
    const reply = await rawRequest('GET / HTTP/1.0\r\n\r\n');
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(reply).toContain('Missing Host header');
  });

  it('escapes a Host that is not a name at all', async () => {
    const reply = await rawRequest('GET / HTTP/1.1\r\nHost: <script>alert(1)</script>\r\nConnection: close\r\n\r\n');
    expect(reply).toMatch(/^HTTP\/1\.1 400 /);
    expect(reply).not.toContain('<script>');
    expect(reply).toContain('&lt;script&gt;');
  });
});

describe('loop guard', () => {
  it('answers 508 once a request has been through the proxy too often', async () => {
    const res = await to('web.acme.localhost').set('X-Portbroker-Hops', '5').set('Accept', 'application/json');
    expect(res.status).toBe(508);
    expect(res.body).toMatchObject({ error: 'loop', hops: 5 });
  });

  it('forwards below the limit, counting the hop', async () => {
    seen.length = 0;
    await to('web.acme.localhost').set('X-Portbroker-Hops', '4').expect(200);
    expect(seen.at(-1)!.headers['x-portbroker-hops']).toBe('5');
  });
});

describe('502 pages', () => {
  it('names a crashed service, its port, state, last log lines and command (HTML, escaped)', async () => {
    const res = await to('admin.acme.localhost:7355');
    expect(res.status).toBe(502);
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.text).toContain('admin');
    expect(res.text).toMatch(/port \d+/);
    expect(res.text).toContain('crashed');
    expect(res.text).toContain('admin listening');
    expect(res.text).toContain('npx portbroker up admin');
    expect(res.text).not.toContain('<script>alert');
    expect(res.text).not.toContain('<img src=x');
    expect(res.text).toContain('&lt;script&gt;alert(&quot;log&quot;)&lt;/script&gt;');
    expect(res.text).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(res.text).not.toContain('\u001b['); // colour codes stripped
  });

  it('gives the same facts as JSON when asked', async () => {
    const res = await to('admin.acme.localhost').set('Accept', 'application/json');
    expect(res.status).toBe(502);
    expect(res.headers['content-type']).toMatch(/application\/json/);
    expect(res.body).toMatchObject({ error: 'unavailable', service: 'admin', project: 'acme', state: 'crashed', command: 'node admin.js --title "<img src=x onerror=alert(1)>"' });
    expect(res.body.logLines).toEqual(['admin listening', 'Error: <script>alert("log")</script>', 'exit 1']);
  });

  it('explains a running service whose port does not answer', async () => {
    const res = await to('gone.acme.localhost').set('Accept', 'text/html;q=0.5, application/json');
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ service: 'gone', state: 'running', command: 'node gone.js', logLines: ['gone: serving'] });
    expect(res.body.reason).toMatch(/nothing answers on port \d+/);
  });

  it('prefers HTML when the client does', async () => {
    const res = await to('admin.acme.localhost').set('Accept', 'text/html,application/json;q=0.9');
    expect(res.headers['content-type']).toMatch(/text\/html/);
  });

  it('escapes names from the registry on the 404 page', async () => {
    const res = await to('nope.localhost');
    expect(res.text).not.toContain('<img src=x onerror=alert(2)>');
    expect(res.text).toContain('x&lt;img src=x onerror=alert(2)&gt;');
  });
});

function rawRequest(text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1', () => socket.write(text));
    let reply = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (reply += d));
    socket.on('end', () => resolve(reply));
    socket.on('error', reject);
  });
}
