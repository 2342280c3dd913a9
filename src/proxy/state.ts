import { readFileSync } from 'node:fs';
import { statePaths } from '../platform/paths.js';
import { isAlive } from '../platform/proc.js';

/** What the proxy daemon writes to `proxy.json` in the state folder when it listens. */
export interface ProxyState {
  pid: number;
  port: number;
  https: boolean;
  /** Addresses it listens on, e.g. ["127.0.0.1", "::1"]. */
  addresses: string[];
  startedAt: string;
}

/** The running proxy of this state folder, or undefined when none runs (a stale file is ignored). */
export function runningProxy(home: string): ProxyState | undefined {
  try {
    const state = JSON.parse(readFileSync(statePaths(home).proxyState, 'utf8')) as ProxyState;
    return isAlive(state.pid) ? state : undefined;
  } catch {
    return undefined;
  }
}
