import { describe, expect, it } from 'vitest';
import { ResponseFraming, sentRequest } from '../../src/proxy/response-framing.js';

/**
 * The response reader of a spliced connection, fed bytes as a service would send them (whole, split anywhere,
 * from a read buffer that is reused): it must find where each response ends, or know that only a close ends it.
 */

function reader(requests: Array<'GET' | 'HEAD' | 'upgrade'> = ['GET']) {
  const events: string[] = [];
  const framing = new ResponseFraming({
    onResponseEnd: (closes) => events.push(closes ? 'end+close' : 'end'),
    onSwitch: () => events.push('switch'),
  });
  for (const r of requests) framing.expect(r === 'upgrade' ? sentRequest('GET', true) : sentRequest(r, false));
  return { framing, events };
}

/** Feeds `text` in pieces of `size` bytes through one buffer that is overwritten for each piece. */
function feed(framing: ResponseFraming, text: string, size = Infinity): void {
  const bytes = Buffer.from(text, 'latin1');
  const shared = Buffer.alloc(Math.min(size, bytes.length) || 1);
  for (let at = 0; at < bytes.length; at += size) {
    const piece = bytes.subarray(at, Math.min(at + size, bytes.length));
    shared.fill(0x21);
    piece.copy(shared);
    framing.scan(shared.subarray(0, piece.length));
  }
}

const OK = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello';

describe('ResponseFraming', () => {
  it.each([1, 2, 3, 7, 1000])('finds the end of responses by length, fed %i bytes at a time from a reused buffer', (size) => {
    const { framing, events } = reader(['GET', 'GET']);
    feed(framing, OK + OK.replace('Content-Length: 5', 'content-length:  5 '), size);
    expect(events).toEqual(['end', 'end']);
    expect(framing.pending).toBe(0);
  });

  it('follows chunked bodies, also when the last coding is chunked in a list', () => {
    const { framing, events } = reader(['GET', 'GET']);
    feed(framing, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n', 4);
    expect(events).toEqual(['end']);
    feed(framing, 'HTTP/1.1 200 OK\r\nTRANSFER-ENCODING: gzip, Chunked \r\n\r\n0\r\n\r\n');
    expect(events).toEqual(['end', 'end']);
  });

  it('ends bodiless responses at their head: HEAD, 204, 304, Content-Length 0', () => {
    const { framing, events } = reader(['HEAD', 'GET', 'GET', 'GET']);
    feed(framing, 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n');
    feed(framing, 'HTTP/1.1 204 No Content\r\n\r\n');
    feed(framing, 'HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n');
    feed(framing, 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    expect(events).toEqual(['end', 'end', 'end', 'end']);
  });

  it('waits past interim responses, and switches on 101', () => {
    const first = reader(['GET']);
    feed(first.framing, 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n' + OK, 5);
    expect(first.events).toEqual(['end']);
    const upgrade = reader(['upgrade']);
    feed(upgrade.framing, 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello');
    expect(upgrade.events).toEqual(['switch']);
    expect(upgrade.framing.opaque).toBe(true);
  });

  it('knows when the service closes after a response: Connection: close in a list, or HTTP/1.0', () => {
    const { framing, events } = reader(['GET', 'GET', 'GET']);
    feed(framing, OK.replace('\r\n\r\n', '\r\nConnection: keep-alive, CLOSE\r\n\r\n'));
    feed(framing, 'HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n');
    feed(framing, OK.replace('\r\n\r\n', '\r\nConnection: closed\r\n\r\n'));
    expect(events).toEqual(['end+close', 'end+close', 'end']);
  });

  it('reads a body with no length, an unknown coding, a bad length or a head that is not HTTP/1.x until the service closes', () => {
    for (const head of [
      'HTTP/1.1 200 OK\r\n\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 1234567890123456\r\n\r\n',
      'HTTP/2.0 200 OK\r\nContent-Length: 5\r\n\r\n',
      'HTTP/1.1 2000 OK\r\nContent-Length: 5\r\n\r\n',
      'SSH-2.0-OpenSSH\r\n\r\n',
    ]) {
      const { framing, events } = reader();
      feed(framing, head + 'hello');
      expect([head, events, framing.opaque]).toEqual([head, [], true]);
      framing.closed();
      expect([head, events]).toEqual([head, ['end+close']]);
    }
  });

  it('reads a status line without a reason phrase, and header lines that end in a bare LF', () => {
    const { framing, events } = reader(['GET', 'GET']);
    feed(framing, 'HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\nContent-Length: 2\nX-A: b\r\n\r\nok');
    expect(events).toEqual(['end', 'end']);
  });
});
