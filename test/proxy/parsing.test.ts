import { describe, expect, it } from 'vitest';
import { ChunkedBody } from '../../src/proxy/chunked-body.js';
import { parseHost } from '../../src/proxy/host.js';
import { findHeadEnd, parseRequestHead } from '../../src/proxy/request-head.js';

/** The small parsers the fast path relies on to find request boundaries on a spliced connection. */

function head(text: string) {
  const buffer = Buffer.from(text, 'latin1');
  return parseRequestHead(buffer, findHeadEnd(buffer));
}

describe('parseHost', () => {
  it.each([
    ['web.acme.localhost', 'web.acme.localhost'],
    ['Web.Acme.LOCALHOST.:7355', 'web.acme.localhost'],
    ['localhost', 'localhost'],
    ['127.0.0.1:80', '127.0.0.1'],
    ['[::1]:7355', '::1'],
    ['[::1]', '::1'],
    [' web.localhost ', 'web.localhost'],
  ])('%s → %s', (header, host) => expect(parseHost(header)).toBe(host));

  it.each([undefined, '', 'web.localhost:port', '[::1', '[nope]', 'a b', '<script>', 'web..localhost', 'web.localhost:7355:1', '-web.localhost'])('refuses %s', (header) =>
    expect(parseHost(header)).toBeUndefined(),
  );
});

describe('parseRequestHead', () => {
  it('reads the method, Host and a bodiless request', () => {
    expect(head('GET / HTTP/1.1\r\nHost: web.localhost:7355\r\nAccept: */*\r\n\r\n')).toEqual({
      method: 'GET',
      target: '/',
      host: 'web.localhost:7355',
      hostCount: 1,
      hops: 0,
      body: 'none',
      contentLength: 0,
      replaced: undefined,
    });
  });

  it('finds bodies by length and chunked, and upgrades', () => {
    expect(head('POST /u HTTP/1.1\r\nhost: a.localhost\r\nCONTENT-LENGTH: 12\r\n\r\n')).toMatchObject({ body: 'length', contentLength: 12 });
    expect(head('POST /u HTTP/1.1\r\nHost: a.localhost\r\nTransfer-Encoding: gzip, chunked\r\n\r\n')).toMatchObject({ body: 'chunked' });
    expect(head('GET /ws HTTP/1.1\r\nHost: a.localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n')).toMatchObject({ body: 'upgrade' });
    expect(head('POST / HTTP/1.0\r\nHost: a.localhost\r\nContent-Length: 0\r\n\r\n')).toMatchObject({ body: 'none' });
  });

  it('leaves ambiguous framing to the general path', () => {
    const reject = (text: string) => expect(head(text)?.body).toBe('reject');
    reject('POST / HTTP/1.1\r\nHost: a.localhost\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n');
    reject('POST / HTTP/1.1\r\nHost: a.localhost\r\nTransfer-Encoding: gzip\r\n\r\n');
    reject('POST / HTTP/1.1\r\nHost: a.localhost\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n');
    reject('POST / HTTP/1.1\r\nHost: a.localhost\r\nContent-Length: -1\r\n\r\n');
    reject('GET / HTTP/1.1\r\nHost: a.localhost\r\nX-Long: a\r\n continued\r\n\r\n');
    reject('CONNECT a.localhost:443 HTTP/1.1\r\nHost: a.localhost:443\r\n\r\n');
  });

  it('reads the hop count and finds the lines the proxy replaces (client X-Forwarded-*, the hop header)', () => {
    const text = 'GET / HTTP/1.1\r\nHost: a.localhost\r\nX-Forwarded-For: 1.2.3.4\r\nX-Forwarded-Host: evil.com\r\nx-forwarded-proto: https\r\nX-Forwarded-Port: 1\r\nX-Portbroker-Hops: 3\r\nX-Forwarded-Prefix: /kept\r\n\r\n';
    const parsed = head(text)!;
    expect(parsed.hops).toBe(3);
    let kept = '';
    let from = 0;
    for (let i = 0; i < parsed.replaced!.length; i += 2) {
      kept += text.slice(from, parsed.replaced![i]);
      from = parsed.replaced![i + 1]!;
    }
    kept += text.slice(from);
    expect(kept).toBe('GET / HTTP/1.1\r\nHost: a.localhost\r\nX-Forwarded-Prefix: /kept\r\n\r\n');
    expect(head('GET / HTTP/1.1\r\nHost: a.localhost\r\nForwarded: for=1.2.3.4\r\n\r\n')?.replaced).toBeUndefined();
  });

  it('leaves heads with a bare CR or LF inside a line to the general path', () => {
    expect(head('GET / HTTP/1.1\r\nHost: a.localhost\r\nX: y\nHost: evil.com\r\n\r\n')?.body).toBe('reject');
    expect(head('GET / HTTP/1.1\r\nHost: a.localhost\r\nX: y\rHost: evil.com\r\n\r\n')?.body).toBe('reject');
  });

  it('counts Host headers, and gives nothing for what is not HTTP/1.x', () => {
    expect(head('GET / HTTP/1.1\r\nAccept: */*\r\n\r\n')).toMatchObject({ host: undefined, hostCount: 0 });
    expect(head('GET / HTTP/1.1\r\nHost: a.localhost\r\nHost: b.localhost\r\n\r\n')).toMatchObject({ host: 'a.localhost', hostCount: 2 });
    expect(head('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')).toBeUndefined();
    expect(head('GET / HTTP/1.1 junk\r\nHost: a\r\n\r\n')).toBeUndefined();
  });
});

describe('ChunkedBody', () => {
  const body = '5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: yes\r\n\r\n';
  const next = 'GET /next HTTP/1.1\r\n\r\n';

  it('finds the end of the body, whatever the pieces it arrives in', () => {
    const bytes = Buffer.from(body + next);
    for (let size = 1; size <= bytes.length; size++) {
      const tracker = new ChunkedBody();
      let end = -1;
      for (let at = 0; at < bytes.length && end < 0; at += size) {
        const piece = bytes.subarray(at, at + size);
        const found = tracker.scan(piece, 0);
        if (found >= 0) end = at + found;
      }
      expect(end, `pieces of ${size}`).toBe(body.length);
    }
  });

  it('reports bytes that are not chunked encoding', () => {
    expect(new ChunkedBody().scan(Buffer.from('zz\r\n'), 0)).toBe(-2);
  });
});
