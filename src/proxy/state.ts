import { readFileSync } from 'node:fs';
import { statePaths } from '../platform/paths.js';
import { commandLine, isAlive } from '../platform/proc.js';

/** What the proxy daemon writes to `proxy.json` in the state folder when it listens. */
export interface ProxyState {
  pid: number;
  port: number;
  https: boolean;
  /** Addresses it listens on, e.g. ["127.0.0.1", "::1"]. */
  addresses: string[];
  startedAt: string;
}

/** The proxy process names itself so (process.title); `ps` shows it and a recycled pid is not mistaken for it. */
export const PROXY_TITLE = 'portbroker-proxy';

/** The running proxy of this state folder, or undefined when none runs (a stale file is ignored). */
export function runningProxy(home: string): ProxyState | undefined {
  const state = readProxyState(home);
  return state && isAlive(state.pid) && isProxyProcess(state.pid) ? state : undefined;
}

/** `proxy.json` as written, alive or not. */
export function readProxyState(home: string): ProxyState | undefined {
  try {
    const state = JSON.parse(readFileSync(statePaths(home).proxyState, 'utf8')) as ProxyState;
    return Number.isInteger(state?.pid) && Number.isInteger(state?.port) ? state : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `pid` is a portbroker proxy (true where the command line cannot be read: no /proc). */
function isProxyProcess(pid: number): boolean {
  const line = commandLine(pid);
  return line === undefined || line.startsWith(PROXY_TITLE);
}
