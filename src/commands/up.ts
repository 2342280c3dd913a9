import { configFiles, fingerprint } from '../config/watch.js';
import { PortbrokerError, UsageError } from '../errors.js';
import { statePaths } from '../platform/paths.js';
import { sleep } from '../platform/sleep.js';
import { openProject, type CommonOptions, type Project } from '../project/open.js';
import type { CrashPolicyOptions } from '../runner/crash-policy.js';
import type { EventSink } from '../runner/events.js';
import { preloadRegistryWriter } from '../runner/registry-publisher.js';
import type { Selection } from '../runner/config-reload.js';
import { startSession, type Session, type SessionOptions } from '../runner/session.js';
import { selectServices } from '../runner/start-order.js';

export interface UpOptions extends CommonOptions {
  /** Stop everything when a service fails to start; the session then ends with status 1. */
  abortOnFail?: boolean;
  /** Let the proxy listen on every interface. */
  lan?: boolean;
  /** Let services print colour (their output is shown in colour). */
  forceColor?: boolean;
  /** Progress, output and problems, as they happen. */
  onEvent?: EventSink;
  crashPolicy?: CrashPolicyOptions;
  /** Apply saved config edits while running (default true; the CLI's `--no-watch` turns it off). */
  watch?: boolean;
  /** How the user runs portbroker (`npx portbroker`): the proxy's pages name commands so (default `portbroker`). */
  invokedAs?: string;
}

export type { Session, ServiceView } from '../runner/session.js';
export type { RunnerEvent, ServiceStatus } from '../runner/events.js';
export { stripAnsi } from '../platform/ansi.js';

/**
 * `portbroker up [service…]`: reserves ports, makes sure the shared proxy runs, and starts the named services
 * (all by default) and what they depend on, in dependency order. Resolves with the running session once starts
 * are under way: `session.ready` settles when each is ready or has failed, `session.stop()` stops them all,
 * `session.done` gives the exit status.
 */
export async function up(names: string[] = [], options: UpOptions = {}): Promise<Session> {
  return upProject(await openForUp(options), names, options);
}

/** Opens the project as `up` does, the registry's writer loading meanwhile; `upProject` then runs it. */
export function openForUp(options: UpOptions): Promise<Project> {
  preloadRegistryWriter();
  return openProject(options);
}

/** `up` of a project already open: the CLI opens it once, to see whether its services already run (it attaches then). */
export function upProject(project: Project, names: string[], options: UpOptions): Promise<Session> {
  const { services, startNow } = selectServices(project.config, names);
  const { file } = project.config;
  // An edit is loaded as a fresh `up` would load it: checked, and the ports of added services reserved.
  const reload =
    options.watch !== false && file
      ? {
          file,
          loaded: fingerprint(configFiles(file, statePaths(project.settings.home).configCache)),
          load: async (vet: (loaded: Pick<Project, 'config' | 'settings'>) => void) => {
            let selected: ReturnType<typeof selectServices> | undefined;
            // Checked before anything is reserved: a refused edit leaves the registry as it was.
            const next = await openProject(options, (loaded) => {
              vet(loaded);
              selected = selectFor(loaded.config, names);
            });
            return { project: next, ...selected! };
          },
        }
      : undefined;
  return superviseProject(project, services, startNow, { ...options, reload });
}

/** `up <names>` after an edit: a named service the config no longer declares is refused, saying why. */
function selectFor(config: Project['config'], names: string[]): ReturnType<typeof selectServices> {
  try {
    return selectServices(config, names);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    throw new UsageError(`${error.message}, which this up was started for`, ['run `portbroker down`, then `portbroker up` with the services to run']);
  }
}

/** Shared by `up` and `run`: the session, and the proxy beside it. */
export async function superviseProject(
  project: Project,
  services: string[],
  startNow: string[],
  options: UpOptions & Pick<SessionOptions, 'exitWith' | 'reload'>,
): Promise<Session> {
  // The proxy runs while the session runs a service it routes: as the services run now, a config edit may change that.
  const proxied = ({ project: p, services: names }: Selection) => names.some((n) => p.config.services[n]?.proxy);
  // It is checked once the services are spawned, while they boot: its check reads /proc (milliseconds of CPU) and
  // would hold up their start. The table is printed when `ready` settles: its URLs must answer by then.
  const routes = (selection: Selection) =>
    proxied(selection) ? Promise.all([startProxy(selection.project, options), syncHosts(selection.project, options)]).then(() => undefined) : Promise.resolve();
  return startSession({
    project,
    services,
    startNow,
    abortOnFail: options.abortOnFail,
    exitWith: options.exitWith,
    forceColor: options.forceColor,
    crashPolicy: options.crashPolicy,
    onEvent: options.onEvent,
    onWarning: options.onWarning,
    env: options.env,
    invokedAs: options.invokedAs,
    whileStarting: () => routes({ project, services, startNow }),
    afterReload: routes,
    reload: options.reload,
    restoreProxy: (selection) => (proxied(selection) ? startProxy(selection.project, options, PROXY_RESTORE_MS) : Promise.resolve()),
  });
}

/** The hosts file's block, where the resolver lacks `*.localhost`; loaded only then (see commands/hosts.ts). */
async function syncHosts(project: Project, options: UpOptions): Promise<void> {
  if (!project.settings.hosts) return;
  const { syncHostsForRoutes } = await import('./hosts.js');
  await syncHostsForRoutes(project.settings, (level, message) => options.onEvent?.({ type: 'notice', level, message }));
}

/**
 * After the state folder was deleted, the old proxy either stops (it checks every 2 s) or, finding the folder
 * back, writes its pid file again; until one of them happens its port answers but no pid file names it.
 */
const PROXY_RESTORE_MS = 6_000;

/**
 * The shared proxy. Services run without it, so a proxy that cannot start is a warning, not the end. With
 * `retryMs`, a port held by something else is tried again until then (see PROXY_RESTORE_MS).
 */
async function startProxy(project: Project, options: UpOptions, retryMs = 0): Promise<void> {
  const { settings } = project;
  const deadline = Date.now() + retryMs;
  try {
    // Loaded here, not at the top: its modules are not needed before the services are spawned.
    const { ensureProxy } = await import('../proxy/daemon.js');
    for (;;) {
      try {
        await ensureProxy({ home: settings.home, port: settings.proxyPort, lan: options.lan, https: settings.https });
        return;
      } catch (error) {
        if (Date.now() >= deadline) throw error;
        await sleep(250);
      }
    }
  } catch (error) {
    const details = error instanceof PortbrokerError ? error.details : [];
    options.onEvent?.({
      type: 'notice',
      level: 'warn',
      message: [
        `the proxy is not running (${(error as Error).message}): services run, but their *.localhost URLs will not answer`,
        ...details,
      ].join('\n'),
    });
  }
}
