import { openForUp, up, upProject, type UpOptions } from '../../commands/up.js';
import { attachIfRunning } from '../attach.js';
import { invokedAs } from '../invocation.js';
import { isDetachedChild, reportToParent, startDetached } from '../detach.js';
import { out } from '../output.js';
import { sessionInTerminal } from '../supervise.js';
import { common, type CliOptions } from '../run.js';

export default async function main([services]: unknown[], options: CliOptions) {
  const names = (services as string[] | undefined) ?? [];
  const timestamps = options.timestamps === true;
  if (options.detach) return startDetached(process.argv.slice(2), timestamps);
  const background = isDetachedChild() ? reportToParent() : undefined;
  const request: UpOptions = {
    ...common(options),
    https: options.https === true ? true : undefined,
    abortOnFail: options.abortOnFail === true,
    lan: options.lan === true,
    watch: options.watch !== false,
    invokedAs: invokedAs(),
    // Detached, the services' output goes only to their logs, which the dashboard shows in colour (`logs`
    // strips it off a terminal, `--json` keeps it); NO_COLOR still wins (process-env.ts).
    forceColor: background ? true : out.isColorSupported,
  };
  // In a terminal, the project is opened once: to see whether its services already run elsewhere, then to run them.
  const project = background ? undefined : await openForUp(request);
  if (project) {
    const attached = await attachIfRunning(project, names, request, timestamps);
    if (attached !== undefined) return attached;
  }
  return sessionInTerminal(
    (onEvent) => {
      const reported: UpOptions = {
        ...request,
        onEvent: background
          ? (event) => {
              background.onEvent(event);
              onEvent(event);
            }
          : onEvent,
      };
      return project ? upProject(project, names, reported) : up(names, reported);
    },
    { timestamps },
    { table: !background, onReady: background ? (session) => background.ready(session) : undefined },
  );
}
