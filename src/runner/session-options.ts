import type { RegistryOptions } from '../ports/registry.js';
import type { Project } from '../project/open.js';
import type { Fingerprint } from '../config/watch.js';
import type { Selection, SelectionLoader } from './config-reload.js';
import type { CrashPolicyOptions } from './crash-policy.js';
import type { EventSink } from './events.js';

/** What a session (`session.ts`) is given: everything is passed in at construction, nothing written in later. */
export interface SessionOptions extends RegistryOptions {
  project: Project;
  /** Every service this session is responsible for, in dependency order. */
  services: string[];
  /** Of those, the ones to start now (with what they depend on); on-demand ones wait for a request. */
  startNow: string[];
  /** Stop everything when a service fails to start (exit status 1). */
  abortOnFail?: boolean;
  /** `portbroker run`: the session ends when this service's command ends, with its exit status. */
  exitWith?: string;
  /** Children may print colour (portbroker shows it). */
  forceColor?: boolean;
  crashPolicy?: CrashPolicyOptions;
  onEvent?: EventSink;
  /** How the user ran portbroker (`npx portbroker`): the proxy's pages name commands so (default `portbroker`). */
  invokedAs?: string;
  /** The environment services inherit (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** Work begun once the services are spawned, while they boot (the proxy); `ready` waits for it too. */
  whileStarting?: () => Promise<void>;
  /** Brings the proxy back after the state folder was deleted (and with it the proxy's reason to run), if the services run now need it. */
  restoreProxy?: (selection: Selection) => Promise<void>;
  /**
   * Live reload: `file` is watched, and each saved edit is loaded with `load` and applied (`live-config.ts`);
   * `loaded` is the config's content as the session got it.
   */
  reload?: { file: string; load: SelectionLoader; loaded: Fingerprint };
  /** After a config edit was applied: the proxy and the hosts block follow the new services. */
  afterReload?: (selection: Selection) => Promise<void>;
}

export type EndReason = 'requested' | 'aborted' | 'finished';
