import http from 'node:http';
import net from 'node:net';
import { once } from 'node:events';
import { describe, expect, it, onTestFinished } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { fixture } from '../helpers/cli.js';
import { get, proxyConnections, registerService, rssBytes, setState, startProxy, startUpstream, until } from './helpers.js';

/**
 * Real traffic through the real proxy daemon (started by the CLI), once with the fast path and once with every
 * request on the general path. Upstreams are real servers in this process; nothing is mocked.
 */

const PATHS = [
  ['fast path', {}],
  ['general path', { PORTBROKER_PROXY_FAST_PATH: '0' }],
] as const;

describe.each(PATHS)('through the %s', (_name, env) => {
  async function setUp() {
    const fx = await fixture();
    const pid = await startProxy(fx, env);
    return { fx, pid, port: fx.proxyPort };
  }

  it('relays a WebSocket with the upstream’s own 101, both ways', async () => {
    const { fx, port } = await setUp();
    const upstream = await startUpstream((_req, res) => res.end('not a socket'));
    const wss = new WebSocketServer({ server: upstream.server });
    wss.on('headers', (headers) => headers.push('X-Upstream-Said: hello'));
    wss.on('connection', (socket, req) => {
      socket.send(`host ${req.headers.host} protocol ${socket.protocol}`);
      socket.on('message', (data) => socket.send(`echo ${data.toString()}`));
    });
    await registerService(fx.home, { service: 'web', port: upstream.port });

    const client = new WebSocket(`ws://127.0.0.1:${port}/hmr`, 'vite-hmr', { headers: { host: `web.acme.localhost:${port}` } });
    let upgrade: http.IncomingMessage | undefined;
    client.on('upgrade', (response) => (upgrade = response));
    const messages: string[] = [];
    client.on('message', (data) => messages.push(data.toString()));
    await once(client, 'open');
    expect(upgrade?.statusCode).toBe(101);
    expect(upgrade?.headers['x-upstream-said']).toBe('hello');
    for (let i = 0; i < 5; i++) client.send(`message ${i}`);
    await until(() => messages.length === 6, 'six messages');
    expect(messages[0]).toBe(`host web.acme.localhost:${port} protocol vite-hmr`);
    expect(messages.slice(1)).toEqual([0, 1, 2, 3, 4].map((i) => `echo message ${i}`));
    client.close();
    await once(client, 'close');
    wss.close();
  });

  it('streams server-sent events one by one', async () => {
    const { fx, port } = await setUp();
    let send: ((text: string) => void) | undefined;
    let finish: (() => void) | undefined;
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.flushHeaders();
      send = (text) => res.write(`data: ${text}\n\n`);
      finish = () => res.end();
    });
    await registerService(fx.home, { service: 'events', port: upstream.port });

    const req = http.get({ host: '127.0.0.1', port, path: '/stream', headers: { host: 'events.acme.localhost', accept: 'text/event-stream' }, agent: false });
    const [res] = (await once(req, 'response')) as [http.IncomingMessage];
    expect(res.statusCode).toBe(200);
    let received = '';
    res.setEncoding('utf8').on('data', (d: string) => (received += d));
    await until(() => send !== undefined, 'the stream to open');
    // Each event is sent only once the previous one has arrived: a proxy that buffered would never get here.
    for (let i = 1; i <= 3; i++) {
      send!(`event ${i}`);
      await until(() => received.includes(`data: event ${i}\n\n`), `event ${i} to arrive on its own`);
    }
    finish!();
    await once(res, 'end');
    expect(received).toBe('data: event 1\n\ndata: event 2\n\ndata: event 3\n\n');
  });

  it.each(['127.0.0.1', '::1'])('reaches a service bound to %s only', async (address) => {
    const { fx, port } = await setUp();
    const upstream = await startUpstream((req, res) => res.end(`on ${req.socket.localAddress}`), address);
    await registerService(fx.home, { service: 'web', port: upstream.port });
    for (let i = 0; i < 3; i++) {
      const reply = await get(port, 'web.acme.localhost');
      expect(reply.status).toBe(200);
      expect(reply.body).toBe(`on ${address}`);
    }
  });

  it('reuses upstream connections for keep-alive clients', async () => {
    const { fx, port } = await setUp();
    const upstream = await startUpstream((_req, res) => res.end('ok'));
    await registerService(fx.home, { service: 'web', port: upstream.port });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    try {
      for (let round = 0; round < 50; round++) {
        const replies = await Promise.all([0, 1, 2, 3].map(() => get(port, 'web.acme.localhost', { agent })));
        for (const reply of replies) {
          expect(reply.status).toBe(200);
          expect(reply.headers.connection).not.toBe('close');
        }
      }
    } finally {
      agent.destroy();
    }
    expect(upstream.connections.length).toBeLessThanOrEqual(4);
  });

  it('sends each request of one connection to the service its Host names', async () => {
    const { fx, port } = await setUp();
    const web = await startUpstream((req, res) => res.end(`web ${req.url}`));
    const api = await startUpstream((req, res) => res.end(`api ${req.url}`), '::1');
    await registerService(fx.home, { service: 'web', port: web.port });
    await registerService(fx.home, { service: 'api', port: api.port });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 6; i++) {
        const service = i % 2 === 0 ? 'web' : 'api';
        const reply = await get(port, `${service}.acme.localhost`, { agent, path: `/${i}` });
        expect(reply.body).toBe(`${service} /${i}`);
      }
      // And a name that is not routed, on the same connection: the 404 page, then the service again.
      expect((await get(port, 'nope.localhost', { agent })).status).toBe(404);
      expect((await get(port, 'web.acme.localhost', { agent, path: '/last' })).body).toBe('web /last');
    } finally {
      agent.destroy();
    }
  });

  it('relays large responses byte for byte to a client that reads slowly, and the request after them', async () => {
    const { fx, port } = await setUp();
    // 8 MB that differ everywhere, sent in pieces of 12,000 bytes a millisecond apart, so the proxy reads them
    // one by one, while the client does not read at first: once the buffers between the proxy and the client are
    // full, the proxy's writes queue. A read buffer used again while a queued write still needs it would show
    // here as wrong bytes.
    const body = Buffer.alloc(8 * 1024 * 1024);
    for (let i = 0; i < body.length; i += 4) body.writeUInt32LE((i * 2654435761) >>> 0, i);
    const upstream = await startUpstream((req, res) => {
      if (req.url === '/small') return void res.end('after');
      res.writeHead(200, { 'content-length': body.length });
      let at = 0;
      const pump = () => {
        if (at >= body.length) return void res.end();
        const piece = body.subarray(at, Math.min(at + 12_000, body.length));
        at += piece.length;
        if (res.write(piece)) setTimeout(pump, 1);
        else res.once('drain', pump);
      };
      pump();
    });
    await registerService(fx.home, { service: 'files', port: upstream.port });
    const socket = net.connect(port, '127.0.0.1');
    onTestFinished(() => void socket.destroy());
    socket.write('GET /big HTTP/1.1\r\nHost: files.acme.localhost\r\n\r\nGET /small HTTP/1.1\r\nHost: files.acme.localhost\r\n\r\n');
    const chunks: Buffer[] = [];
    let received = 0;
    socket.pause();
    setTimeout(() => socket.resume(), 1500);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      // Stop reading now and then, so the proxy's writes to this client queue up again.
      if (chunks.length % 4 === 0) {
        socket.pause();
        setTimeout(() => socket.resume(), 30);
      }
    });
    await until(() => Buffer.concat(chunks).includes('\r\n\r\nafter'), 'both responses', 60_000);
    const all = Buffer.concat(chunks, received);
    const headEnd = all.indexOf('\r\n\r\n') + 4;
    expect(all.subarray(0, 12).toString()).toBe('HTTP/1.1 200');
    expect(all.subarray(headEnd, headEnd + body.length).equals(body)).toBe(true);
    expect(all.subarray(headEnd + body.length).toString()).toMatch(/^HTTP\/1\.1 200[^]*\r\n\r\nafter$/);
  });

  it('forwards chunked request bodies and the requests after them', async () => {
    const { fx, port } = await setUp();
    const upstream = await startUpstream(async (req, res) => {
      let body = '';
      for await (const chunk of req) body += chunk;
      res.end(`${req.method} ${req.url} ${req.headers['transfer-encoding'] ?? '-'} ${body}`);
    });
    await registerService(fx.home, { service: 'web', port: upstream.port });
    // Written by hand so the framing is exactly this, on one connection, pipelined in a single write.
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    const host = 'Host: web.acme.localhost\r\n';
    socket.write(
      `POST /one HTTP/1.1\r\n${host}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n` +
        `POST /two HTTP/1.1\r\n${host}Content-Length: 3\r\n\r\nabc` +
        `GET /three HTTP/1.1\r\n${host}Connection: close\r\n\r\n`,
    );
    let reply = '';
    socket.setEncoding('utf8').on('data', (d: string) => (reply += d));
    await once(socket, 'end');
    socket.destroy();
    expect(reply).toContain('POST /one chunked hello, world');
    expect(reply).toContain('POST /two - abc');
    expect(reply).toContain('GET /three - ');
    expect(reply.match(/HTTP\/1\.1 200 OK/g)).toHaveLength(3);
  });

  it('lets a request wait while its service is starting, then answers it', async () => {
    const { fx, port } = await setUp();
    let ready = false;
    const upstream = await startUpstream((_req, res) => res.end(ready ? 'answered after the start' : 'too early'));
    await registerService(fx.home, { service: 'web', port: upstream.port, state: 'starting' });
    const pending = get(port, 'web.acme.localhost');
    let settled = false;
    void pending.finally(() => (settled = true));
    // The request reached the proxy and is held there (the proxy counts its client connection).
    await until(async () => (await proxyConnections(port)).clients >= 2, 'the request to be held');
    expect(settled).toBe(false);
    ready = true;
    await setState(fx.home, 'web', 'running');
    const reply = await pending;
    expect(reply.status).toBe(200);
    expect(reply.body).toBe('answered after the start');
  });

  it('frees both sockets when the client aborts mid-response', async () => {
    const { fx, port } = await setUp();
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first part, and the rest never comes\n');
    });
    await registerService(fx.home, { service: 'web', port: upstream.port });
    const req = http.get({ host: '127.0.0.1', port, path: '/slow', headers: { host: 'web.acme.localhost' }, agent: false });
    req.on('error', () => undefined);
    const [res] = (await once(req, 'response')) as [http.IncomingMessage];
    await once(res, 'data');
    expect(upstream.open()).toBe(1);
    req.destroy();
    await until(() => upstream.open() === 0, 'the upstream connection to close');
    // Only the status request's own connection is left on the proxy.
    await until(async () => {
      const open = await proxyConnections(port);
      return open.clients === 1 && open.upstreams === 0;
    }, 'the proxy to close both sockets');
  });

  it('gives the client a clean error when the service resets mid-response', async () => {
    const { fx, port } = await setUp();
    const upstream = await startUpstream((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000' });
      res.write('only a part');
      setImmediate(() => req.socket.resetAndDestroy());
    });
    await registerService(fx.home, { service: 'web', port: upstream.port });
    const outcome = await new Promise<string>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, headers: { host: 'web.acme.localhost' }, agent: false }, (res) => {
        res.on('data', () => undefined);
        res.on('end', () => resolve(`complete ${res.statusCode}`));
        res.on('aborted', () => resolve('aborted'));
        res.on('error', () => resolve('aborted'));
      });
      req.on('error', () => resolve('error'));
    });
    // Never the truncated body passed off as whole: the response is cut, or — when the reset reached the proxy
    // before the response did — the 502 page.
    expect(['aborted', 'error', 'complete 502']).toContain(outcome);
    await until(async () => (await proxyConnections(port)).upstreams === 0, 'the proxy to drop the upstream socket');
  });

  it('answers 502 when the service closes the connection without answering a POST', async () => {
    const { fx, port } = await setUp();
    const upstream = await startUpstream((req) => req.socket.destroy());
    await registerService(fx.home, { service: 'web', port: upstream.port, command: 'node web.js' });
    const reply = await get(port, 'web.acme.localhost', { method: 'POST', body: 'x=1', headers: { accept: 'application/json' } });
    expect(reply.status).toBe(502);
    expect(JSON.parse(reply.body)).toMatchObject({ service: 'web', command: 'node web.js' });
  });

  it('stops a service that proxies to its own URL with 508', async () => {
    const { fx, port } = await setUp();
    // A dev server whose proxy points back at its own name: each pass goes through portbroker again.
    const upstream = await startUpstream((req, res) => {
      const onward = http.request({ host: '127.0.0.1', port, path: req.url, method: req.method, headers: req.headers, agent: false }, (reply) => {
        res.writeHead(reply.statusCode ?? 500, reply.headers);
        reply.pipe(res);
      });
      onward.on('error', () => res.destroy());
      req.pipe(onward);
    });
    await registerService(fx.home, { service: 'web', port: upstream.port });
    const reply = await get(port, 'web.acme.localhost', { headers: { accept: 'application/json' } });
    expect(reply.status).toBe(508);
    expect(JSON.parse(reply.body)).toMatchObject({ error: 'loop', hops: 5 });
  });

  it('streams a 100 MB upload without buffering it (proxy memory grows < 50 MB)', async () => {
    const { fx, port, pid } = await setUp();
    const upstream = await startUpstream(async (req, res) => {
      let bytes = 0;
      for await (const chunk of req) bytes += (chunk as Buffer).length;
      res.end(String(bytes));
    });
    await registerService(fx.home, { service: 'files', port: upstream.port });
    await get(port, 'files.acme.localhost', { method: 'POST', body: 'warm-up' });
    const before = rssBytes(pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 10);
    const total = 100 * 1024 * 1024;
    const chunk = Buffer.alloc(256 * 1024, 'x');
    try {
      const reply = await new Promise<string>((resolve, reject) => {
        const req = http.request(
          { host: '127.0.0.1', port, method: 'POST', path: '/upload', headers: { host: 'files.acme.localhost', 'content-length': total }, agent: false },
          (res) => {
            let body = '';
            res.setEncoding('utf8').on('data', (d: string) => (body += d));
            res.on('end', () => resolve(body));
          },
        );
        req.on('error', reject);
        let sent = 0;
        const pump = () => {
          while (sent < total) {
            sent += chunk.length;
            if (!req.write(chunk)) return void req.once('drain', pump);
          }
          req.end();
        };
        pump();
      });
      expect(Number(reply)).toBe(total);
    } finally {
      clearInterval(sampler);
    }
    expect(peak - before).toBeLessThan(50 * 1024 * 1024);
  });
});
