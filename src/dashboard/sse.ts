import type http from 'node:http';

/**
 * A server-sent events stream on a response. The browser's EventSource reconnects by itself (after `retry`),
 * which is how the page survives a proxy restart; a comment every 15 s keeps idle connections open through
 * anything that times them out. The head, and the heartbeat, begin with the first event (a log's tail, the state
 * feed's first snapshot): until then the client waits, as for any answer.
 */
export interface EventStream {
  /**
   * An event whose data is already JSON (one serialisation for every client); false: the client is slow (its data
   * waits in memory).
   */
  sendRaw(event: string, json: string): boolean;
  /** Whole events, made once (`eventText`) for every client that gets them, written together. */
  sendEvents(events: readonly string[]): boolean;
  /** Bytes written but not yet taken by the client. */
  backlog(): number;
  /** Open, and not holding back unsent data. */
  writableReady(): boolean;
  onClose(listener: () => void): void;
  /** Ends the stream: the client's EventSource reconnects by itself. */
  end(): void;
  readonly closed: boolean;
}

const HEARTBEAT_MS = 15_000;
const RETRY_MS = 1_000;

export function openEventStream(req: http.IncomingMessage, res: http.ServerResponse): EventStream {
  req.socket.setTimeout(0);
  req.socket.setNoDelay(true);
  let closed = false;
  let heartbeat: NodeJS.Timeout | undefined;
  res.once('close', () => {
    closed = true;
    clearInterval(heartbeat);
  });
  // The answer's head goes out with the first event, not before: a client that has the head has what that event
  // holds, so a log follower that sees the head gets every line appended after it, however long the tail took.
  const write = (data: string): boolean => {
    if (closed) return false;
    if (!res.headersSent) {
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        'x-accel-buffering': 'no',
      });
      res.write(`retry: ${RETRY_MS}\n\n`);
      heartbeat = setInterval(() => res.write(': keep-alive\n\n'), HEARTBEAT_MS).unref();
    }
    return res.write(data);
  };
  return {
    sendRaw: (event, json) => write(eventText(event, json)),
    sendEvents: (events) => {
      res.cork();
      let ready = true;
      for (const event of events) ready = write(event);
      res.uncork();
      return ready;
    },
    backlog: () => res.writableLength,
    writableReady: () => !closed && !res.writableNeedDrain,
    onClose: (listener) => res.once('close', listener),
    // Before the head, a cut connection: an EventSource reconnects after a network error, not after a bare answer.
    end: () => (res.headersSent ? res.end() : res.destroy()),
    get closed() {
      return closed;
    },
  };
}

/** An event with `json` as its data. JSON never holds a raw line break, so one `data:` line carries any payload. */
export function eventText(event: string, json: string): string {
  return `event: ${event}\ndata: ${json}\n\n`;
}
