import { up } from '../../commands/up.js';
import { attachIfRunning } from '../attach.js';
import { isDetachedChild, reportToParent, startDetached } from '../detach.js';
import { out } from '../output.js';
import { sessionInTerminal } from '../supervise.js';
import { common, type CliOptions } from '../run.js';

export default async function main([services]: unknown[], options: CliOptions) {
  const names = (services as string[] | undefined) ?? [];
  const timestamps = options.timestamps === true;
  if (options.detach) return startDetached(process.argv.slice(2), timestamps);
  const background = isDetachedChild() ? reportToParent() : undefined;
  if (!background) {
    const attached = await attachIfRunning(names, common(options), timestamps);
    if (attached !== undefined) return attached;
  }
  return sessionInTerminal(
    (onEvent) =>
      up(names, {
        ...common(options),
        https: options.https === true ? true : undefined,
        abortOnFail: options.abortOnFail === true,
        lan: options.lan === true,
        watch: options.watch !== false,
        // Detached, the services' output goes only to their logs, which the dashboard shows in colour (`logs`
        // strips it off a terminal, `--json` keeps it); NO_COLOR still wins (process-env.ts).
        forceColor: background ? true : out.isColorSupported,
        onEvent: background
          ? (event) => {
              background.onEvent(event);
              onEvent(event);
            }
          : onEvent,
      }),
    { timestamps },
    { table: !background, onReady: background ? (session) => background.ready(session) : undefined },
  );
}
