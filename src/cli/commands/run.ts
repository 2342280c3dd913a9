import { run } from '../../commands/run.js';
import { out } from '../output.js';
import { SessionView } from '../session-view.js';
import { catchSignals, superviseInTerminal } from '../supervise.js';
import { common, type CliOptions } from '../run.js';

export default async function main([name]: unknown[], options: CliOptions) {
  const signals = catchSignals();
  let view: SessionView | undefined;
  const pending: Parameters<SessionView['handle']>[0][] = [];
  try {
    const session = await run(String(name), (options['--'] ?? []).map(String), {
      ...common(options),
      port: options.port as string | number | undefined,
      https: options.https === true ? true : undefined,
      forceColor: out.isColorSupported,
      onEvent: (event) => (view ? view.handle(event) : pending.push(event)),
    });
    view = new SessionView({ services: [String(name)], plain: true, onBackpressure: (paused) => session.setOutputPaused(paused) });
    for (const event of pending.splice(0)) view.handle(event);
    const [service] = session.services();
    void session.ready.then(() => {
      if (service && session.services()[0]?.status === 'running') view!.notice('info', `${service.name} → ${service.url} (port ${service.port})`);
    });
    return await superviseInTerminal(session, view, signals, { table: false });
  } catch (error) {
    signals.release();
    throw error;
  }
}
