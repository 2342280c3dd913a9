import { once } from 'node:events';
import http2 from 'node:http2';
import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/cli.js';
import { registerService, startUpstream, until } from '../proxy/helpers.js';
import { curl, h2Get, h2Reply, h2Session, startHttpsProxy } from './helpers.js';

/**
 * HTTP/2 streams forwarded to a service over pooled HTTP/1.1 connections (src/tls/h2-forward.ts): what the
 * proxy itself must get right now that no compatibility layer or proxy library does it — bodies both ways,
 * response heads, streams without a length, a service or a client that goes away, and connection reuse.
 */

async function setUp(handler: Parameters<typeof startUpstream>[0]) {
  const fx = await fixture();
  const { ca, caFile } = await startHttpsProxy(fx);
  const upstream = await startUpstream(handler);
  await registerService(fx.home, { service: 'web', port: upstream.port });
  const authority = `web.acme.localhost:${fx.proxyPort}`;
  const session = await h2Session(fx.proxyPort, 'web.acme.localhost', ca);
  return { fx, caFile, upstream, session, authority };
}

/** Reads a stream to its end: 'ended cleanly', or the code of the error that ended it (a reset). */
function howItEnds(stream: http2.ClientHttp2Stream): Promise<string> {
  stream.resume();
  return new Promise((resolve) => {
    stream.on('end', () => resolve('ended cleanly'));
    stream.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe('HTTP/2 streams forwarded to HTTP/1.1 services', () => {
  it('sends a request body up and relays the answer: status, repeated headers, no hop-by-hop ones', async () => {
    const { session, authority } = await setUp((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        res.setHeader('set-cookie', ['a=1', 'b=2']);
        res.setHeader('connection', 'keep-alive');
        res.setHeader('keep-alive', 'timeout=5');
        res.writeHead(201, { 'content-type': 'text/plain' });
        res.end(`${req.method} ${req.url} length=${req.headers['content-length']} host=${req.headers.host} hops=${req.headers['x-portbroker-hops']} body=${body}`);
      });
    });
    const payload = 'x'.repeat(200_000); // more than one flow-control window of HTTP/2
    const stream = session.request({ ':method': 'POST', ':path': '/upload?q=1', ':authority': authority, 'content-length': String(payload.length) });
    stream.end(payload);
    const { headers, body: text } = await h2Reply(stream);
    expect(headers[':status']).toBe(201);
    expect(headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(headers.connection).toBeUndefined();
    expect(headers['keep-alive']).toBeUndefined();
    expect(text).toBe(`POST /upload?q=1 length=200000 host=${authority} hops=1 body=${payload}`);
  });

  it('answers HEAD, 204 and 304 with headers alone, and reuses one upstream connection for requests in turn', async () => {
    const { upstream, session, authority } = await setUp((req, res) => {
      if (req.url === '/none') return void res.writeHead(204).end();
      if (req.url === '/same') return void res.writeHead(304, { etag: '"v1"' }).end();
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5' }).end(req.method === 'HEAD' ? undefined : 'hello');
    });
    const reply = await h2Reply(session.request({ ':method': 'HEAD', ':path': '/', ':authority': authority }));
    const head = { status: reply.status, length: reply.headers['content-length'], body: reply.body };
    expect(head).toEqual({ status: 200, length: '5', body: '' });
    expect(await h2Get(session, authority, '/none')).toMatchObject({ status: 204, body: '' });
    expect(await h2Get(session, authority, '/same')).toMatchObject({ status: 304, body: '' });
    expect((await h2Get(session, authority, '/')).body).toBe('hello');
    expect(upstream.connections.length).toBe(1);
  });

  it('drops a te header from an answer; a status HTTP/2 cannot carry gets a 502 that names it and points to HTTP/1.1', async () => {
    const { fx, caFile, upstream, session, authority } = await setUp((req, res) => {
      if (req.url === '/te') return void res.writeHead(200, { te: 'gzip', 'content-type': 'text/plain' }).end('te dropped');
      res.writeHead(600, { 'content-type': 'text/plain' }).end('an odd status');
    });
    const te = await h2Get(session, authority, '/te');
    expect(te).toMatchObject({ status: 200, body: 'te dropped' });
    expect(te.headers.te).toBeUndefined();

    const odd = await h2Get(session, authority, '/odd', { accept: 'application/json' });
    expect(odd.status).toBe(502);
    const facts = JSON.parse(odd.body) as { message: string; error: string; upstreamStatus: number; port: number };
    expect(facts).toMatchObject({ error: 'uncarried-answer', upstreamStatus: 600, port: upstream.port });
    expect(facts.message).toBe(`web of acme (port ${upstream.port}) answered with status 600, which HTTP/2 cannot carry; the same request works over HTTP/1.1 (curl --http1.1), or change what the service sends`);
    const page = await h2Get(session, authority, '/odd');
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('answered with status 600, which HTTP/2 cannot carry');

    // As the page says: over HTTP/1.1 the same request gets the service's answer.
    const url = `https://web.acme.localhost:${fx.proxyPort}/odd`;
    const h1 = await curl(['--http1.1', '--cacert', caFile, '--resolve', `web.acme.localhost:${fx.proxyPort}:127.0.0.1`, '--write-out', ' %{http_code}', url]);
    expect(h1.stdout).toBe('an odd status 600');
  });

  it('answers a 101 to a request that asked for no upgrade with the same 502, and the session serves on', async () => {
    const { upstream, session, authority } = await setUp((req, res) => {
      if (req.url === '/after') return void res.end('still here');
      res.socket!.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: something-else\r\n\r\n');
    });
    const switched = await h2Get(session, authority, '/switch', { accept: 'application/json' });
    expect(switched.status).toBe(502);
    expect(JSON.parse(switched.body)).toMatchObject({ error: 'uncarried-answer', upstreamStatus: 101, port: upstream.port });
    expect((await h2Get(session, authority, '/after')).body).toBe('still here');
  });

  it('ends the stream with the head of a 204, 205 or 304, drops a body a 205 must not have, and reuses the connection', async () => {
    const { upstream, session, authority } = await setUp((req, res) => {
      // Node sends a 205 with whatever body it is given (a 204 or 304 with none).
      const status = Number(req.url!.slice(1));
      res.writeHead(status).end(status === 205 ? 'a body a 205 must not have' : undefined);
    });
    const endsWithHead = (status: number) =>
      new Promise<{ status: number; endStream: boolean }>((resolve, reject) => {
        const stream = session.request({ ':method': 'GET', ':path': `/${status}`, ':authority': authority });
        let head = { status: 0, endStream: false };
        stream.on('response', (headers, flags) => (head = { status: Number(headers[':status']), endStream: (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0 }));
        stream.resume();
        stream.on('end', () => resolve(head));
        stream.on('error', reject);
      });
    for (const status of [204, 205, 304]) expect(await endsWithHead(status)).toEqual({ status, endStream: true });
    expect(await h2Get(session, authority, '/200')).toMatchObject({ status: 200, body: '' });
    expect(upstream.connections.length).toBe(1);
  });

  it('sends the head of an answer with no length at once (server-sent events), before any of its body', async () => {
    let release: (() => void) | undefined;
    const { session, authority } = await setUp((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      release = () => res.end('data: late\n\n');
    });
    const stream = session.request({ ':method': 'GET', ':path': '/events', ':authority': authority });
    const [headers] = (await once(stream, 'response')) as [http2.IncomingHttpHeaders];
    expect(headers[':status']).toBe(200);
    expect(headers['content-type']).toBe('text/event-stream');
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (text += chunk));
    release!();
    await once(stream, 'end');
    expect(text).toBe('data: late\n\n');
  });

  it('resets the stream when the service dies mid-answer, so the client sees a broken answer, not a short one', async () => {
    const { session, authority } = await setUp((_req, res) => {
      // No length (chunked): only the reset tells the client that the answer is not whole.
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('only part of it');
      setImmediate(() => res.socket!.destroy());
    });
    const stream = session.request({ ':method': 'GET', ':path': '/', ':authority': authority });
    expect(await howItEnds(stream)).toBe('ERR_HTTP2_STREAM_ERROR');
    expect(stream.rstCode).toBe(http2.constants.NGHTTP2_INTERNAL_ERROR);
  });

  it('closes the upstream request of a stream the client resets, and serves the session on', async () => {
    let upstreamClosed = false;
    const { session, authority } = await setUp((req, res) => {
      if (req.url === '/after') return void res.end('still here');
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      res.on('close', () => (upstreamClosed = true));
    });
    const stream = session.request({ ':method': 'GET', ':path': '/forever', ':authority': authority });
    await once(stream, 'data');
    stream.close(http2.constants.NGHTTP2_CANCEL);
    await until(() => upstreamClosed, 'the service sees its request closed');
    expect((await h2Get(session, authority, '/after')).body).toBe('still here');
  });

  it('relays a refused WebSocket upgrade (extended CONNECT) as any answer: its status and body, and a reset when it breaks off', async () => {
    const { session, authority } = await setUp((req, res) => {
      res.writeHead(req.url === '/broken' ? 200 : 404, { 'content-type': 'text/plain' });
      if (req.url !== '/broken') return void res.end('no socket here');
      res.write('only part of it');
      setImmediate(() => res.socket!.destroy());
    });
    const connect = (path: string) =>
      session.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https', ':path': path, ':authority': authority, 'sec-websocket-version': '13' }, { endStream: false });
    const { headers, body: text } = await h2Reply(connect('/hmr'));
    expect(headers[':status']).toBe(404);
    expect(text).toBe('no socket here');
    const broken = connect('/broken');
    expect(await howItEnds(broken)).toBe('ERR_HTTP2_STREAM_ERROR');
    expect(broken.rstCode).toBe(http2.constants.NGHTTP2_INTERNAL_ERROR);
  });
});
