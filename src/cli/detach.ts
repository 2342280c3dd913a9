import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RunnerEvent, Session, ServiceView } from '../commands/up.js';
import { dashboardUrl } from '../config/names.js';
import { runsInSession } from '../runner/events.js';
import { SessionView } from './session-view.js';

/**
 * `up -d`: the session runs in a background portbroker (its own process group and session, no terminal),
 * which reports its progress over an IPC channel until every service is ready, sends the table, and lets go;
 * this process shows what it was sent and returns. The background one is stopped with `portbroker down`.
 */

const CHILD_VARIABLE = 'PORTBROKER_DETACHED';

type Message = { type: 'event'; event: RunnerEvent } | { type: 'ready'; services: ServiceView[]; pid: number; dashboard: string };

/** Whether this process is the background supervisor of an `up -d`. */
export function isDetachedChild(): boolean {
  return process.env[CHILD_VARIABLE] === '1' && typeof process.send === 'function';
}

/** In the background supervisor: what the session reports goes to the `up -d` that started it, until ready. */
export function reportToParent(): { onEvent: (event: RunnerEvent) => void; ready: (session: Session) => void } {
  // Services must not inherit the marker.
  delete process.env[CHILD_VARIABLE];
  const send = (message: Message) => {
    if (process.connected) process.send!(message, undefined, undefined, () => undefined);
  };
  return {
    onEvent: (event) => send({ type: 'event', event }),
    ready: (session) => {
      const { proxyPort, https } = session.project.settings;
      send({ type: 'ready', services: session.services(), pid: process.pid, dashboard: dashboardUrl(proxyPort, https) });
      setImmediate(() => process.connected && process.disconnect());
    },
  };
}

/** `up -d` itself: starts the background supervisor with the same arguments and shows its start. */
export function startDetached(argv: string[], timestamps: boolean): Promise<number> {
  const cli = fileURLToPath(new URL('./main.js', import.meta.url));
  const child = spawn(process.execPath, [cli, ...argv.filter((a) => a !== '-d' && a !== '--detach')], {
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    env: { ...process.env, [CHILD_VARIABLE]: '1' },
  });
  let view: SessionView | undefined;
  const pending: RunnerEvent[] = [];
  return new Promise((resolve) => {
    const onSignal = () => child.kill('SIGINT');
    process.on('SIGINT', onSignal);
    const done = (status: number) => {
      process.off('SIGINT', onSignal);
      view?.close();
      resolve(status);
    };
    child.on('message', (message: Message) => {
      if (message.type === 'event') {
        if (view) view.handle(message.event);
        else pending.push(message.event);
        return;
      }
      view ??= new SessionView({ services: message.services.map((s) => s.name), timestamps });
      for (const event of pending.splice(0)) view.handle(event);
      view.close();
      view.table(message.services);
      view.hint(`dashboard ${message.dashboard}`);
      // Nothing runs under the background portbroker (all ran elsewhere already, or failed): it has ended.
      const others = [...new Set(message.services.flatMap((s) => (s.status === 'elsewhere' && s.owner ? [s.owner] : [])))];
      const runsAny = message.services.some((s) => runsInSession(s.status));
      if (runsAny) view.hint(`running in the background (portbroker pid ${message.pid}): portbroker logs -f follows them, portbroker down stops them`);
      else if (others.length > 0) view.hint(`already running (portbroker pid ${others.join(', ')}): portbroker logs -f follows them, portbroker down stops them`);
      else view.hint('nothing runs: the background portbroker ended (portbroker logs shows why)');
      child.disconnect();
      child.unref();
      done(0);
    });
    // Ended before it was ready: nothing runs; its status is ours.
    child.on('exit', (code, signal) => {
      if (!view) {
        view = new SessionView({ services: [...new Set(pending.map((e) => ('service' in e ? e.service : undefined)).filter((s): s is string => !!s))], timestamps });
        for (const event of pending.splice(0)) view.handle(event);
        done(code ?? (signal ? 1 : 0));
      }
    });
  });
}
