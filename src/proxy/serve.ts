import { existsSync, rmSync } from 'node:fs';
import writeFileAtomic from 'write-file-atomic';
import { statePaths } from '../platform/paths.js';
import { PROXY_TITLE, readProxyState, type ProxyState } from './state.js';
import { startProxyServer, type ProxyServer, type ProxyServerOptions } from './server.js';

const STATE_FOLDER_CHECK_MS = 2_000;

export interface ServingProxy {
  server: ProxyServer;
  state: ProxyState;
  /** Resolves once the proxy stopped (a signal, or `stop()`). */
  stopped: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Runs the proxy of a state folder in this process: listens, then publishes `proxy.json` (the pid file other
 * portbroker commands read), and on SIGTERM/SIGINT stops and withdraws it. The daemon and
 * `portbroker proxy start --foreground` both run this.
 */
export async function serveProxy(options: ProxyServerOptions): Promise<ServingProxy> {
  // The process shows as `portbroker-proxy :7355 <home>` in ps, and `stop` can tell it from a recycled pid.
  process.title = `${PROXY_TITLE} :${options.port} ${options.home}`;
  const server = await startProxyServer(options);
  const state: ProxyState = {
    pid: process.pid,
    port: server.port,
    https: options.https === true,
    addresses: server.addresses,
    startedAt: server.startedAt.toISOString(),
  };
  const file = statePaths(options.home).proxyState;
  await writeFileAtomic(file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });

  let resolveStopped!: () => void;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      process.removeListener('SIGTERM', onSignal);
      process.removeListener('SIGINT', onSignal);
      // Another proxy may have replaced ours in the file: withdraw only our own entry.
      if (readProxyState(options.home)?.pid === process.pid) rmSync(file, { force: true });
      await server.close();
      resolveStopped();
    })());
  const onSignal = () => void stop();
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // A state folder that was deleted takes the registry and the pid file with it: nothing is left to serve,
  // and nobody could find this process to stop it. When a running `up` has recreated it meanwhile, the pid file
  // is written again instead, so `up` and `proxy stop` find this proxy.
  const orphaned = setInterval(() => {
    if (existsSync(options.home)) {
      if (!existsSync(file) && !stopping) void writeFileAtomic(file, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 }).catch(() => undefined);
      return;
    }
    options.log?.(`the state folder ${options.home} is gone; stopping`);
    void stop();
  }, STATE_FOLDER_CHECK_MS);
  orphaned.unref();
  void stopped.then(() => clearInterval(orphaned));
  return { server, state, stopped, stop };
}
