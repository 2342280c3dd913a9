import { run } from '../../commands/run.js';
import { invokedAs } from '../invocation.js';
import { out } from '../output.js';
import { sessionInTerminal } from '../supervise.js';
import { common, type CliOptions } from '../run.js';

export default async function main([name]: unknown[], options: CliOptions) {
  return sessionInTerminal(
    (onEvent) =>
      run(String(name), (options['--'] ?? []).map(String), {
        ...common(options),
        port: options.port as string | number | undefined,
        https: options.https === true ? true : undefined,
        invokedAs: invokedAs(),
        forceColor: out.isColorSupported,
        onEvent,
      }),
    { plain: true },
    {
      table: false,
      onReady: (session, view) => {
        const [service] = session.services();
        if (service?.status === 'running') view.notice('info', `${service.name} → ${service.url} (port ${service.port})`);
      },
    },
  );
}
