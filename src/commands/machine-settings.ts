import type { Settings } from '../config/settings.js';
import { resolveContext, type CommonOptions } from '../project/context.js';

/**
 * Settings for commands that work without a project (proxy, alias): the project's config is used when there is
 * one that loads (its `proxy.port`), and none is needed. A config named with --config must load, though.
 */
export async function machineSettings(options: CommonOptions): Promise<Settings> {
  return (await resolveContext(options, 'if-loadable')).settings;
}
