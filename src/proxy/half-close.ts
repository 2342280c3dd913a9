import type net from 'node:net';

/**
 * When one side of a relayed connection (a WebSocket, a spliced connection) ends, the other gets the end too, and
 * after a short grace both are destroyed: a peer that never answers a FIN must not keep two sockets (and two
 * file descriptors) open forever. nginx closes both sides at once; the grace lets a last message (a WebSocket
 * close frame) through.
 */
export const HALF_CLOSE_GRACE_MS = 2_000;

export interface Pair {
  /** Starts the grace: both sockets are destroyed when it runs out, unless both closed by then. */
  finish(): void;
  /** Unpairs them (a socket handed to someone else). */
  dispose(): void;
}

/** Pairs two relayed sockets; `finishOnEnd`: an end from either side starts the grace by itself. */
export function closeTogether(a: net.Socket, b: net.Socket, finishOnEnd = true, graceMs = HALF_CLOSE_GRACE_MS): Pair {
  let timer: NodeJS.Timeout | undefined;
  const finish = () => {
    if (timer || (a.destroyed && b.destroyed)) return;
    timer = setTimeout(() => {
      a.destroy();
      b.destroy();
    }, graceMs);
    timer.unref();
  };
  const onClose = () => {
    if (a.destroyed && b.destroyed) clearTimeout(timer);
    else finish();
  };
  a.once('close', onClose);
  b.once('close', onClose);
  if (finishOnEnd) {
    a.once('end', finish);
    b.once('end', finish);
  }
  const dispose = () => {
    clearTimeout(timer);
    timer = undefined;
    for (const socket of [a, b]) {
      socket.removeListener('close', onClose);
      socket.removeListener('end', finish);
    }
  };
  return { finish, dispose };
}
