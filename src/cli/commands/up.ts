import { up } from '../../commands/up.js';
import { out } from '../output.js';
import { SessionView } from '../session-view.js';
import { catchSignals, superviseInTerminal } from '../supervise.js';
import { common, type CliOptions } from '../run.js';

export default async function main([services]: unknown[], options: CliOptions) {
  const names = (services as string[] | undefined) ?? [];
  const signals = catchSignals();
  let view: SessionView | undefined;
  const pending: Parameters<SessionView['handle']>[0][] = [];
  try {
    const session = await up(names, {
      ...common(options),
      https: options.https === true ? true : undefined,
      abortOnFail: options.abortOnFail === true,
      lan: options.lan === true,
      forceColor: out.isColorSupported,
      // Events may come before the session (and so the view) exists: keep them until then.
      onEvent: (event) => (view ? view.handle(event) : pending.push(event)),
    });
    view = new SessionView({
      services: session.services().map((s) => s.name),
      timestamps: options.timestamps === true,
      onBackpressure: (paused) => session.setOutputPaused(paused),
    });
    for (const event of pending.splice(0)) view.handle(event);
    return await superviseInTerminal(session, view, signals, { table: true });
  } catch (error) {
    signals.release();
    throw error;
  }
}
