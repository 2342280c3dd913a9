import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/cli.js';
import { registerService, startUpstream } from '../proxy/helpers.js';
import { RawClient, request } from '../proxy/raw.js';
import { curl, startHttpsProxy } from './helpers.js';

/**
 * HTTPS/1.1 on the proxy port is served as plain HTTP/1.1 is, once decrypted: the same fast path (spliced) and
 * the same guarantees — pipelined requests for several services answered in order, each by its own service,
 * bodies framed, refusals in their place, keep-alive — with X-Forwarded-Proto saying https. Through both paths,
 * as test/proxy/hostile.test.ts checks plain HTTP.
 */

const PATHS = [
  ['fast path', {}],
  ['general path', { PORTBROKER_PROXY_FAST_PATH: '0' }],
] as const;

interface Seen {
  name: string;
  method: string;
  url: string;
  body: string;
  proto: string | undefined;
}

/** A service that answers with its name and what it got. */
async function namedService(home: string, name: string) {
  const upstream = await startUpstream((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const seen: Seen = { name, method: req.method!, url: req.url!, body, proto: req.headers['x-forwarded-proto'] as string | undefined };
      res.setHeader('x-served-by', name);
      res.end(JSON.stringify(seen));
    });
  });
  await registerService(home, { service: name, port: upstream.port });
  return upstream;
}

const served = (response: { headers: Record<string, string>; body: string; status: number }) => {
  if (!response.headers['x-served-by']) return `proxy ${response.status}`;
  const seen = JSON.parse(response.body) as Seen;
  return `${seen.name} ${seen.method} ${seen.url}${seen.body ? ` body=${seen.body}` : ''} proto=${seen.proto}`;
};

describe.each(PATHS)('HTTPS/1.1 through the %s', (path, env) => {
  it('answers a keep-alive connection with pipelined requests for several services in order, each by its own service', async () => {
    const fx = await fixture();
    const { ca, caFile } = await startHttpsProxy(fx, env);
    const port = fx.proxyPort;
    const web = await namedService(fx.home, 'web');
    const api = await namedService(fx.home, 'api');
    const client = await RawClient.connectTls(port, 'web.acme.localhost', ca);
    client.write(
      request('/a', `web.acme.localhost:${port}`, ['X-Forwarded-Proto: http']) +
        request('/b', `api.acme.localhost:${port}`) +
        request('/c', 'evil.com') +
        request('/d', `web.acme.localhost:${port}`, ['Content-Length: 5'], 'POST') +
        'hello' +
        request('/e', `api.acme.localhost:${port}`, ['Transfer-Encoding: chunked'], 'PUT') +
        '3\r\nabc\r\n0\r\n\r\n' +
        request('/f', `web.acme.localhost:${port}`),
    );
    const first = await client.responsesOrClose(6);
    expect(first.map(served)).toEqual([
      'web GET /a proto=https',
      'api GET /b proto=https',
      'proxy 403',
      'web POST /d body=hello proto=https',
      'api PUT /e body=abc proto=https',
      'web GET /f proto=https',
    ]);
    // Kept alive: the same connection goes on, one request at a time, switching services again.
    client.write(request('/g', `api.acme.localhost:${port}`));
    await client.responsesOrClose(7);
    client.write(request('/h', `web.acme.localhost:${port}`));
    const all = await client.responsesOrClose(8);
    expect(all.slice(6).map(served)).toEqual(['api GET /g proto=https', 'web GET /h proto=https']);
    expect(client.closed).toBe(false);

    // The fast path spliced it (a connection of its own to each service in turn); the general path did not.
    const status = await curl(['--resolve', `portbroker.localhost:${port}:127.0.0.1`, '--cacert', caFile, `https://portbroker.localhost:${port}/api/status`]);
    const { connections } = JSON.parse(status.stdout) as { connections: { spliced: number } };
    if (path === 'fast path') expect(connections.spliced).toBeGreaterThanOrEqual(1);
    else expect(connections.spliced).toBe(0);
    expect(web.connections.length + api.connections.length).toBeGreaterThanOrEqual(2);
  });
});

describe('HTTPS/1.1 half-close', () => {
  it('answers a request whose client ends its side right after sending it', async () => {
    const fx = await fixture();
    const { ca } = await startHttpsProxy(fx);
    await namedService(fx.home, 'web');
    const client = await RawClient.connectTls(fx.proxyPort, 'web.acme.localhost', ca);
    client.write(request('/last', `web.acme.localhost:${fx.proxyPort}`));
    client.socket.end(); // close_notify and FIN; the client reads on until the proxy closes
    const [response] = await client.responsesOrClose(1);
    expect(response && served(response)).toBe('web GET /last proto=https');
  });
});
