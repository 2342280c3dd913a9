import { dashboardUrl } from '../config/names.js';
import type { RunnerEvent, Session } from '../commands/up.js';
import { runsInSession } from '../runner/events.js';
import { SessionView, type ViewOptions } from './session-view.js';

/**
 * What `up` and `run` do in a terminal once their session exists: stop it on SIGINT/SIGTERM/SIGHUP (a second
 * one forces: SIGKILL, status 130), print the table when it is up, and return its exit status when it ends.
 * Signals are caught before the session exists (`catchSignals`) so a Ctrl-C during start-up stops what was
 * started instead of killing portbroker and orphaning it.
 */

/**
 * A Ctrl-C reaches portbroker from the terminal and, when it was started through npx, pnpm, yarn or turbo,
 * again from that wrapper a moment later: a second signal this soon is the same keypress, not a demand to kill.
 */
const SAME_KEYPRESS_MS = 300;

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface SignalCatcher {
  attach(session: Session, view: SessionView): void;
  release(): void;
}

export function catchSignals(): SignalCatcher {
  let count = 0;
  let target: { session: Session; view: SessionView } | undefined;
  const act = () => {
    if (!target) return;
    if (count === 1) {
      target.view.notice('info', 'stopping… (press Ctrl-C again to kill everything at once)');
      void target.session.stop();
    } else {
      target.view.notice('warn', 'killing everything (SIGKILL)');
      void target.session.forceStop();
    }
  };
  let last = 0;
  const onSignal = () => {
    const now = Date.now();
    if (count > 0 && now - last < SAME_KEYPRESS_MS) return;
    last = now;
    count++;
    if (target) act();
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  return {
    attach(session, view) {
      target = { session, view };
      if (count > 0) act();
    },
    release() {
      for (const signal of SIGNALS) process.off(signal, onSignal);
    },
  };
}

/**
 * `up` and `run` in a terminal: signals caught from the start, the session's events shown (those that come
 * before the view exists are kept until it does), and the exit status once it ends.
 */
export async function sessionInTerminal(
  start: (onEvent: (event: RunnerEvent) => void) => Promise<Session>,
  view: Omit<ViewOptions, 'services' | 'onBackpressure'>,
  options: { table: boolean; onReady?: (session: Session, view: SessionView) => void },
): Promise<number> {
  const signals = catchSignals();
  let shown: SessionView | undefined;
  const pending: RunnerEvent[] = [];
  try {
    const session = await start((event) => (shown ? shown.handle(event) : pending.push(event)));
    shown = new SessionView({ ...view, services: session.services().map((s) => s.name), onBackpressure: (paused) => session.setOutputPaused(paused) });
    for (const event of pending.splice(0)) shown.handle(event);
    if (options.onReady) void session.ready.then(() => options.onReady!(session, shown!));
    return await superviseInTerminal(session, shown, signals, options);
  } catch (error) {
    signals.release();
    throw error;
  }
}

async function superviseInTerminal(session: Session, view: SessionView, signals: SignalCatcher, options: { table: boolean }): Promise<number> {
  signals.attach(session, view);
  void session.ready.then(() => {
    view.close();
    // Stopped while starting (Ctrl-C, --abort-on-fail): a table of stopped services tells nothing.
    if (options.table && session.endReason !== 'requested' && session.endReason !== 'aborted') {
      const services = session.services();
      view.table(services);
      const { proxyPort, https } = session.project.settings;
      view.hint(`dashboard ${dashboardUrl(proxyPort, https)}`);
      if (services.some((s) => runsInSession(s.status))) view.hint('Ctrl-C stops them all');
    }
  });
  const status = await session.done;
  view.close();
  signals.release();
  // Everything is stopped and recorded; a handle someone else holds (a daemon keeping a pipe) must not keep us.
  setTimeout(() => process.exit(), 1_000).unref();
  return status;
}
