import type { ProxyState } from './state.js';

/**
 * CONTRACT (implemented by the proxy work): one proxy daemon per state folder.
 *
 * ensureProxy: if this state folder's proxy runs (proxy.json pid alive and listening on `port`), return its
 * state; otherwise start it detached (pid file + log file in the state folder), wait until it listens on
 * 127.0.0.1 and ::1 (or every interface with `lan`), and return its state. A port held by something else is a
 * PortbrokerError (exit 1) naming the holder.
 */
export interface EnsureProxyOptions {
  home: string;
  port: number;
  https?: boolean;
  lan?: boolean;
}

export async function ensureProxy(_options: EnsureProxyOptions): Promise<ProxyState> {
  throw new Error('ensureProxy: not built yet');
}

/** Stops this state folder's proxy; resolves with whether one was running. */
export async function stopProxy(_home: string): Promise<boolean> {
  throw new Error('stopProxy: not built yet');
}
