import http from 'node:http';
import { dashboardUrl } from '../config/names.js';
import { PortbrokerError, UsageError } from '../errors.js';
import { ensureProxy, stopProxy } from '../proxy/daemon.js';
import { readRegistry } from '../ports/registry.js';
import { RouteTable } from '../proxy/route-table.js';
import { routeViews, type RouteView } from '../proxy/route-views.js';
import { serveProxy } from '../proxy/serve.js';
import { runningProxy, type ProxyState } from '../proxy/state.js';
import type { CommonOptions } from '../project/open.js';
import { machineSettings } from './machine-settings.js';

export interface ProxyOptions extends CommonOptions {
  /** Listen on every interface (reachable from the network). */
  lan?: boolean;
}

export type ProxyAction = 'start' | 'stop' | 'status';

export function assertProxyAction(action: string): ProxyAction {
  if (action === 'start' || action === 'stop' || action === 'status') return action;
  throw new UsageError(`unknown proxy action "${action}"; use start, stop or status`, ['portbroker proxy status --json']);
}

export interface ProxyStartResult extends ProxyState {
  /** It was running already (and is shared). */
  reused: boolean;
  dashboard: string;
}

/** Makes sure the shared proxy runs (as a daemon), on the port the settings say. */
export async function proxyStart(options: ProxyOptions = {}): Promise<ProxyStartResult> {
  const settings = await machineSettings(options);
  const before = runningProxy(settings.home);
  const state = await ensureProxy({ home: settings.home, port: settings.proxyPort, lan: options.lan, https: settings.https });
  return { ...state, reused: before?.pid === state.pid, dashboard: dashboardUrl(state.port, state.https) };
}

export interface ProxyStopResult {
  stopped: boolean;
  pid: number | null;
}

export async function proxyStop(options: ProxyOptions = {}): Promise<ProxyStopResult> {
  const settings = await machineSettings(options);
  const pid = runningProxy(settings.home)?.pid ?? null;
  return { stopped: await stopProxy(settings.home), pid };
}

export interface ProxyStatus {
  running: boolean;
  pid: number | null;
  port: number;
  https: boolean;
  addresses: string[];
  startedAt: string | null;
  uptimeSeconds: number | null;
  dashboard: string;
  /** Sockets the proxy holds open now (status's own question among the clients); null when it does not run or answer. */
  connections: ProxyConnections | null;
  routes: RouteView[];
}

export interface ProxyConnections {
  clients: number;
  upstreams: number;
}

/** The proxy of this state folder and the routes it serves (built from the registry exactly as it does). */
export async function proxyStatus(options: ProxyOptions = {}): Promise<ProxyStatus> {
  const settings = await machineSettings(options);
  const state = runningProxy(settings.home);
  const port = state?.port ?? settings.proxyPort;
  const table = RouteTable.fromRegistry(readRegistry(settings.home, options), settings.home);
  return {
    running: state !== undefined,
    pid: state?.pid ?? null,
    port,
    https: state?.https ?? false,
    addresses: state?.addresses ?? [],
    startedAt: state?.startedAt ?? null,
    uptimeSeconds: state ? Math.max(0, Math.round((Date.now() - Date.parse(state.startedAt)) / 1000)) : null,
    dashboard: dashboardUrl(port, state?.https ?? settings.https),
    connections: state && !state.https ? await liveConnections(port) : null,
    routes: routeViews(table.routes, port, state?.https ?? settings.https),
  };
}

/** The running proxy's own count of its sockets, from its API (GET /api/v1/proxy). */
function liveConnections(port: number): Promise<ProxyConnections | null> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/api/v1/proxy', headers: { host: 'portbroker.localhost', accept: 'application/json' }, agent: false, timeout: 2_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => {
        try {
          const { clients, upstreams } = (JSON.parse(body) as { connections: ProxyConnections }).connections;
          resolve(Number.isInteger(clients) && Number.isInteger(upstreams) ? { clients, upstreams } : null);
        } catch {
          resolve(null);
        }
      });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}

/**
 * Runs the proxy in this process until SIGINT/SIGTERM (`proxy start --foreground`): for debugging, or a
 * supervisor of the user's own (systemd, a container).
 */
export async function proxyForeground(options: ProxyOptions & { onListening?: (state: ProxyState) => void } = {}): Promise<ProxyState> {
  const settings = await machineSettings(options);
  const running = runningProxy(settings.home);
  if (running) {
    throw new PortbrokerError(`the proxy of ${settings.home} already runs (pid ${running.pid}, port ${running.port})`, { details: ['stop it first: portbroker proxy stop'] });
  }
  const proxy = await serveProxy({ home: settings.home, port: settings.proxyPort, lan: options.lan, https: settings.https });
  options.onListening?.(proxy.state);
  await proxy.stopped;
  return proxy.state;
}
