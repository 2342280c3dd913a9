import type http from 'node:http';

/**
 * A server-sent events stream on a response. The browser's EventSource reconnects by itself (after `retry`),
 * which is how the page survives a proxy restart; a comment every 15 s keeps idle connections open through
 * anything that times them out.
 */
export interface EventStream {
  /**
   * An event whose data is already JSON (one serialisation for every client); false: the client is slow (its data
   * waits in memory).
   */
  sendRaw(event: string, json: string): boolean;
  /** A whole event made once by `eventFrame` for every client that gets it. */
  sendFrame(frame: Buffer): boolean;
  /** Bytes written but not yet taken by the client. */
  backlog(): number;
  /** Open, and not holding back unsent data. */
  writableReady(): boolean;
  onClose(listener: () => void): void;
  readonly closed: boolean;
}

const HEARTBEAT_MS = 15_000;
const RETRY_MS = 1_000;

export function openEventStream(req: http.IncomingMessage, res: http.ServerResponse): EventStream {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'x-accel-buffering': 'no',
  });
  req.socket.setTimeout(0);
  req.socket.setNoDelay(true);
  res.write(`retry: ${RETRY_MS}\n\n`);
  let closed = false;
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS);
  heartbeat.unref();
  res.once('close', () => {
    closed = true;
    clearInterval(heartbeat);
  });
  return {
    sendRaw: (event, json) => (closed ? false : res.write(eventText(event, json))),
    sendFrame: (frame) => (closed ? false : res.write(frame)),
    backlog: () => res.writableLength,
    writableReady: () => !closed && !res.writableNeedDrain,
    onClose: (listener) => res.once('close', listener),
    get closed() {
      return closed;
    },
  };
}

/** An event with `json` as its data, ready to write to many streams. */
export function eventFrame(event: string, json: string): Buffer {
  return Buffer.from(eventText(event, json));
}

// JSON never holds a raw line break, so one `data:` line carries any payload.
function eventText(event: string, json: string): string {
  return `event: ${event}\ndata: ${json}\n\n`;
}
