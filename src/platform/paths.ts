import os from 'node:os';
import path from 'node:path';

/** Where portbroker keeps its state: registry, proxy pid, logs, certificates, caches. */
export function stateHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PORTBROKER_HOME) return path.resolve(env.PORTBROKER_HOME);
  const xdg = env.XDG_STATE_HOME;
  if (xdg && path.isAbsolute(xdg)) return path.join(xdg, 'portbroker');
  return path.join(os.homedir(), '.local', 'state', 'portbroker');
}

/** Every file portbroker writes lives under the state folder; the names are fixed here, once. */
export function statePaths(home: string) {
  return {
    home,
    registry: path.join(home, 'registry.json'),
    proxyState: path.join(home, 'proxy.json'),
    proxyLog: path.join(home, 'proxy.log'),
    logs: path.join(home, 'logs'),
    run: path.join(home, 'run'),
    configCache: path.join(home, 'cache', 'config'),
    certs: path.join(home, 'certs'),
  };
}

export type StatePaths = ReturnType<typeof statePaths>;

/** A service's log file: `logs/<project>[.<label>]/<service>.log`. The runner appends, the proxy's 502 page reads the tail. */
export function serviceLogFile(home: string, project: string, label: string, service: string): string {
  return path.join(statePaths(home).logs, label ? `${project}.${label}` : project, `${service}.log`);
}

/**
 * What a supervising `up`/`run` itself says (config edits applied or refused, services stopping), beside its
 * services' logs: `portbroker logs` shows it as the `portbroker` stream, and a detached `up` has no terminal
 * but this. The `_` keeps it apart from any service's log (service names are DNS labels). An `up` and a `run` of
 * one checkout both write it.
 */
export function supervisorLogFile(home: string, project: string, label: string): string {
  return serviceLogFile(home, project, label, '_portbroker');
}

/** The control socket of a supervising `up`/`run` process (on-demand starts and activity reports). */
export function controlSocket(home: string, pid: number): string {
  return path.join(statePaths(home).run, `${pid}.sock`);
}
