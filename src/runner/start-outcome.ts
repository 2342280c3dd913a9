import { existsSync } from 'node:fs';
import type { ReadySpec } from '../config/project-config.js';
import { watchForWrongPort } from './port-watch.js';
import { acceptsConnections } from '../platform/loopback.js';
import { describeListeners, findListeners } from '../platform/sockets.js';
import { describeProbe, waitUntilReady, type Readiness } from './readiness.js';
import { seconds, type Unit } from './service-unit.js';
import type { ExitStatus } from './spawn.js';

/** What ends a start first: the process exits, it becomes ready (or times out), or it serves another port. */
export type StartRaceResult = { kind: 'exit'; status: ExitStatus } | { kind: 'ready'; r: Readiness } | { kind: 'elsewhere'; ports: number[] };

export interface StartRaceOptions {
  unit: Unit;
  port: number;
  ready: ReadySpec;
  /** Resolves when a line of output matched `ready.log`. */
  logMatched: Promise<void> | undefined;
  /** Ports of the project's other services: listening there is not a wrong port. */
  siblingPorts: ReadonlySet<number> | undefined;
  /** The supervisor's stop: ends the probes. */
  signal: AbortSignal;
}

/** Races exit, readiness and the wrong-port watch of one started process; the losers' probes are stopped. */
export async function firstStartOutcome(options: StartRaceOptions): Promise<StartRaceResult> {
  const { unit, port, ready } = options;
  const probe = new AbortController();
  const onAbort = () => probe.abort();
  options.signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await Promise.race<StartRaceResult>([
      unit.exited.then((status) => ({ kind: 'exit', status })),
      waitUntilReady({ port, ready, signal: probe.signal, logMatched: options.logMatched }).then((r) => ({ kind: 'ready', r })),
      // A service ready by its log need not serve its port; one that must is watched for serving another.
      ...(ready.log
        ? []
        : [
            watchForWrongPort({ port, groups: () => unit.groups, allowed: options.siblingPorts, signal: probe.signal }).then((ports) =>
              // Aborted (another outcome won): this one must not.
              ports ? ({ kind: 'elsewhere', ports } as const) : new Promise<never>(() => undefined),
            ),
          ]),
    ]);
  } finally {
    probe.abort();
    options.signal.removeEventListener('abort', onAbort);
  }
}

/** What a start that failed, or a command that went to the background, tells the user, with the fix. */
export interface StartMessage {
  message: string;
  fix: string[];
}

/** Why a service cannot be spawned at all (its folder is missing, its port taken), or undefined. */
export async function cannotStart(name: string, cwd: string, port: number, portChecked: boolean): Promise<StartMessage | undefined> {
  if (!existsSync(cwd)) return { message: `${name}: its folder ${cwd} does not exist`, fix: [`fix services.${name}.cwd in the config`] };
  // A connection attempt is cheap; reading /proc/net/tcp (to name the holder) costs milliseconds: only then.
  if (!portChecked && (await acceptsConnections(port))) return portTakenMessage(name, port);
  return undefined;
}

function portTakenMessage(name: string, port: number): StartMessage {
  const holders = findListeners(port);
  return {
    message: `${name}: port ${port} is already in use by ${holders.length > 0 ? describeListeners(holders) : 'another process'}, so ${name} was not started`,
    fix: [`stop that process (\`portbroker who ${port}\` shows it), or give ${name} another port: \`portbroker release ${name}\` then \`portbroker up\``],
  };
}

export function notReadyMessage(name: string, port: number, ready: ReadySpec, reason: string): StartMessage {
  return {
    message: `${name} did not become ready within ${seconds(ready.timeoutMs)}: waited until ${describeProbe(ready, port)}, but ${reason}`,
    fix: [
      ready.log || ready.http
        ? `check that ${name} serves on $PORT (${port}); raise services.${name}.ready.timeoutMs if it is just slow`
        : `make ${name} listen on $PORT (${port}), or set services.${name}.ready to { log: '<a line it prints when ready>' } if it serves no port`,
    ],
  };
}

export function daemonizedMessage(name: string, pids: number[]): StartMessage {
  return {
    message: `${name}: its command exited but left ${pids.length === 1 ? `pid ${pids[0]}` : `pids ${pids.join(', ')}`} running: it daemonized itself (went to the background). portbroker watches and stops it, but cannot show its output or restart it`,
    fix: ['make it stay in the foreground (many tools have a --foreground, --no-daemon or --attach flag)'],
  };
}
