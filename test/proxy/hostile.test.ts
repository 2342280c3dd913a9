import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { describe, expect, it, onTestFinished } from 'vitest';
import { fixture } from '../helpers/cli.js';
import { registerService, startProxy, startUpstream, until } from './helpers.js';
import { openFds, proxyLog, RawClient, request } from './raw.js';

/**
 * Odd and hostile HTTP through the real proxy daemon, on raw sockets, answered as nginx and Caddy answer it:
 * pipelined requests for several services, an Upgrade the service declines, two Host headers, half-closed
 * WebSockets, a head that never ends, bare line feeds, TLS on the plain port, forged X-Forwarded-* headers.
 */

const PATHS = [
  ['fast path', {}],
  ['general path', { PORTBROKER_PROXY_FAST_PATH: '0' }],
] as const;

/** A service that answers with its name, the path and the headers it got. */
async function namedService(fx: { home: string }, name: string) {
  const upstream = await startUpstream((req, res) => {
    res.setHeader('x-served-by', name);
    res.end(JSON.stringify({ name, url: req.url, headers: req.headers }));
  });
  await registerService(fx.home, { service: name, port: upstream.port });
  return upstream;
}

const servedBy = (response: { headers: Record<string, string>; body: string }) =>
  response.headers['x-served-by'] ? `${response.headers['x-served-by']} ${(JSON.parse(response.body) as { url: string }).url}` : `proxy ${response.headers['content-type']?.split(';')[0]}`;

describe.each(PATHS)('through the %s', (path, env) => {
  const fast = path === 'fast path';

  async function setUp(extraEnv: NodeJS.ProcessEnv = {}) {
    const fx = await fixture();
    const pid = await startProxy(fx, { ...env, ...extraEnv });
    return { fx, pid, port: fx.proxyPort };
  }

  it('answers pipelined requests for different services in order, each by its own service', async () => {
    const { fx, port } = await setUp();
    await namedService(fx, 'web');
    await namedService(fx, 'api');
    const client = await RawClient.connect(port);
    client.write(
      request('/a', 'web.acme.localhost') +
        request('/b', 'api.acme.localhost') +
        request('/c', 'evil.com') +
        request('/d', 'web.acme.localhost') +
        request('/e', 'api.acme.localhost', ['Accept: application/json']),
    );
    const responses = await client.responsesOrClose(5);
    expect(responses.map(servedBy)).toEqual(['web /a', 'api /b', 'proxy text/html', 'web /d', 'api /e']);
    expect(responses[2]!.status).toBe(403);
  });

  it('reads every request after an Upgrade the service answers without 101', async () => {
    const { fx, port } = await setUp();
    await namedService(fx, 'web'); // a plain HTTP server: it answers the upgrade request as an ordinary one
    await namedService(fx, 'api');
    const client = await RawClient.connect(port);
    client.write(request('/ws', 'web.acme.localhost', ['Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==']));
    const [first] = await client.responsesOrClose(1);
    expect(servedBy(first!)).toBe('web /ws');
    if (!fast) {
      // The general path (http-proxy-3) closes the connection after a declined upgrade: safe, if not nginx's way.
      await until(() => client.ended || client.closed, 'the general path to close the connection');
      return;
    }
    client.write(request('/b', 'api.acme.localhost') + request('/c', 'evil.com') + request('/d', 'web.acme.localhost'));
    const responses = await client.responsesOrClose(4);
    expect(responses.map(servedBy)).toEqual(['web /ws', 'api /b', 'proxy text/html', 'web /d']);
  });

  it('refuses a request with two Host headers (400), as nginx and Caddy do', async () => {
    const { fx, port } = await setUp();
    await namedService(fx, 'web');
    await namedService(fx, 'api');
    const client = await RawClient.connect(port);
    client.write(request('/', ['web.acme.localhost', 'api.acme.localhost'], ['Accept: application/json']));
    const [response] = await client.responsesOrClose(1);
    expect(response!.status).toBe(400);
    expect(JSON.parse(response!.body)).toMatchObject({ error: 'duplicate-host' });
    await until(() => proxyLog(fx.home).includes('refused: duplicate-host; host "web.acme.localhost"; peer 127.0.0.1:'), 'the refusal in the proxy log');
  });

  it('serves a head whose lines end in bare LF, or refuses it with 400 at once', async () => {
    const { fx, port } = await setUp();
    await namedService(fx, 'web');
    const client = await RawClient.connect(port);
    client.write('GET /lf HTTP/1.1\nHost: web.acme.localhost\nAccept: */*\n\n');
    const [response] = await client.responsesOrClose(1, 'an answer to the LF-only head');
    // The fast path rewrites the head and serves it (nginx's and Caddy's answer); Node's parser alone refuses it.
    if (fast) expect(servedBy(response!)).toBe('web /lf');
    else expect(response!.status).toBe(400);
  });

  it('closes a TLS handshake on the plain HTTP port at once', async () => {
    const { fx, port } = await setUp();
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'web.acme.localhost', rejectUnauthorized: false });
    onTestFinished(() => void socket.destroy());
    const [outcome] = (await Promise.race([once(socket, 'error'), once(socket, 'close'), new Promise((r) => setTimeout(() => r(['still open']), 5_000))])) as [unknown];
    expect(outcome).not.toBe('still open');
    await until(() => proxyLog(fx.home).includes('refused: a TLS handshake on the plain HTTP port'), 'the refusal in the proxy log');
  });

  it('closes a connection whose request head does not complete within the deadline, however slowly it drips', async () => {
    const { fx, port } = await setUp({ PORTBROKER_PROXY_HEAD_TIMEOUT_MS: '1500' });
    await namedService(fx, 'web');
    const drip = async (client: RawClient, text: string) => {
      // One byte every 100 ms: an idle timer never fires; only a deadline on the whole head closes it.
      for (const byte of text) {
        if (client.closed || client.ended) return true;
        client.write(byte);
        await new Promise((r) => setTimeout(r, 100));
      }
      return client.closed || client.ended;
    };
    const slowHead = `GET /slow HTTP/1.1\r\nHost: web.acme.localhost\r\nX-Drip: ${'x'.repeat(120)}\r\n\r\n`;

    const first = await RawClient.connect(port);
    expect(await drip(first, slowHead)).toBe(true);

    // A later head on a connection that was served already.
    const second = await RawClient.connect(port);
    second.write(request('/quick', 'web.acme.localhost'));
    const [quick] = await second.responsesOrClose(1);
    expect(servedBy(quick!)).toBe('web /quick');
    expect(await drip(second, slowHead)).toBe(true);
    await until(() => proxyLog(fx.home).includes('no complete request head within 1.5 s'), 'the refusal in the proxy log');
  });

  it('replaces client-sent X-Forwarded-* with the true values on every request', async () => {
    const { fx, port } = await setUp();
    await namedService(fx, 'web');
    const client = await RawClient.connect(port);
    const forged = ['X-Forwarded-For: 6.6.6.6', 'X-Forwarded-Host: evil.com', 'X-Forwarded-Proto: https', 'X-Forwarded-Port: 1', 'X-Portbroker-Hops: 2'];
    // Host without a port (a hosts-file name on port 80 would look so): X-Forwarded-Port is still the port the client reached.
    client.write(request('/1', 'web.acme.localhost', forged) + request('/2', `web.acme.localhost:${port}`, forged) + request('/3', 'web.acme.localhost'));
    const responses = await client.responsesOrClose(3);
    const seen = responses.map((r) => (JSON.parse(r.body) as { headers: http.IncomingHttpHeaders }).headers);
    for (const [i, headers] of seen.entries()) {
      expect(headers['x-forwarded-for']).toBe('127.0.0.1');
      expect(headers['x-forwarded-proto']).toBe('http');
      expect(headers['x-forwarded-port']).toBe(String(port));
      expect(headers['x-forwarded-host']).toBe(i === 1 ? `web.acme.localhost:${port}` : 'web.acme.localhost');
      expect(headers['x-portbroker-hops']).toBe(i === 2 ? '1' : '3');
    }
  });

  it('counts its open sockets in proxy status --json and rate-limits its log of refusals', async () => {
    const { fx, port } = await setUp();
    await namedService(fx, 'web');
    const client = await RawClient.connect(port);
    client.write(request('/kept-open', 'web.acme.localhost'));
    await client.responsesOrClose(1);
    const status = await fx.run(['proxy', 'status', '--json']);
    expect(status.code).toBe(0);
    const { connections } = JSON.parse(status.stdout) as { connections: { clients: number; upstreams: number } };
    // This connection (and status's own question); the fast path holds a service connection for it.
    expect(connections.clients).toBeGreaterThanOrEqual(1);
    expect(connections.upstreams).toBeGreaterThanOrEqual(fast ? 1 : 0);

    const flood = await RawClient.connect(port);
    flood.write(Array.from({ length: 100 }, (_, i) => request(`/${i}`, 'evil.com')).join(''));
    await flood.responsesOrClose(100);
    expect(flood.responses.every((r) => r.status === 403)).toBe(true);
    const lines = proxyLog(fx.home).split('\n').filter((line) => line.includes('refused: blocked-host; host "evil.com"; peer 127.0.0.1:'));
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThanOrEqual(20);
  });

  describe('no socket outlives its peer', () => {
    /** A WebSocket service that answers 101 and then neither sends nor closes, whatever the client does. */
    async function silentWebSocketService(fx: { home: string }) {
      const sockets: net.Socket[] = [];
      const server = net.createServer({ allowHalfOpen: true }, (socket) => {
        sockets.push(socket);
        socket.on('error', () => undefined);
        socket.once('data', () => socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n'));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      onTestFinished(() => {
        for (const s of sockets) s.destroy();
        server.close();
      });
      await registerService(fx.home, { service: 'ws', port: (server.address() as net.AddressInfo).port });
      // A socket is done once the proxy ended or closed it (the service itself never closes one).
      return { sockets, open: () => sockets.filter((s) => !s.readableEnded && !s.destroyed).length };
    }

    const upgrade = request('/socket', 'ws.acme.localhost', ['Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==']);

    async function openWebSocket(port: number) {
      const client = await RawClient.connect(port, { allowHalfOpen: true });
      client.write(upgrade);
      const [response] = await client.responsesOrClose(1, 'the 101');
      expect(response!.status).toBe(101);
      return client;
    }

    it('closes both sides when the client of a WebSocket ends and the service does not, or the other way round', async () => {
      const { fx, port, pid } = await setUp();
      const service = await silentWebSocketService(fx);
      // The baseline: the proxy after it served a WebSocket once and both sides closed it properly.
      const warm = await openWebSocket(port);
      warm.socket.destroy();
      for (const s of service.sockets) s.destroy();
      await until(() => service.open() === 0, 'the warm-up socket to close');
      const baseline = openFds(pid);
      await until(() => openFds(pid) <= baseline, 'the warm-up to settle');

      const cycles = 6;
      for (let i = 0; i < cycles; i++) {
        const client = await openWebSocket(port);
        await until(() => service.sockets.length === i + 2, 'the service to see the connection');
        if (i % 2 === 0) client.socket.end(); // the client leaves; the service never answers the FIN
        else service.sockets.at(-1)!.end(); // the service leaves; the client never answers the FIN
        if (i % 2 === 1) await until(() => client.ended, 'the client to get the end');
      }
      // After the grace, the proxy closed every side: the service's sockets, and its own fds back to the baseline.
      await until(() => service.open() === 0, 'the service side of every WebSocket to be closed by the proxy', 15_000);
      await until(() => openFds(pid) <= baseline, `the proxy's fds to return to ${baseline}`, 15_000);
    });

    it('closes a spliced HTTP connection the client half-closed, though the service ignores the FIN', async () => {
      const { fx, port, pid } = await setUp();
      // A keep-alive HTTP service that answers every request and never closes a connection by itself.
      const sockets: net.Socket[] = [];
      const server = net.createServer({ allowHalfOpen: true }, (socket) => {
        sockets.push(socket);
        socket.on('error', () => undefined);
        let seen = '';
        socket.on('data', (d: Buffer) => {
          seen += d.toString('latin1');
          while (seen.includes('\r\n\r\n')) {
            seen = seen.slice(seen.indexOf('\r\n\r\n') + 4);
            socket.write('HTTP/1.1 200 OK\r\nX-Served-By: raw\r\nContent-Length: 15\r\n\r\n{"url":"/half"}');
          }
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      onTestFinished(() => {
        for (const socket of sockets) socket.destroy();
        server.close();
      });
      await registerService(fx.home, { service: 'raw', port: (server.address() as net.AddressInfo).port });
      const open = () => sockets.filter((s) => !s.readableEnded && !s.destroyed).length;
      const baseline = openFds(pid);

      const clients: RawClient[] = [];
      for (let i = 0; i < 4; i++) {
        const client = await RawClient.connect(port, { allowHalfOpen: true });
        client.write(request('/half', 'raw.acme.localhost'));
        const [response] = await client.responsesOrClose(1);
        expect(servedBy(response!)).toBe('raw /half');
        client.socket.end();
        clients.push(client);
      }
      await until(() => clients.every((c) => c.ended), 'the proxy to end every client connection', 15_000);
      await until(() => open() === 0, 'the proxy to close its side of every service connection', 15_000);
      await until(() => openFds(pid) <= baseline, `the proxy's fds to return to ${baseline}`, 15_000);
    });
  });
});
