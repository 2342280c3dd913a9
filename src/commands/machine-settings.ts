import { findConfig } from '../config/load.js';
import { resolveSettings, type Settings } from '../config/settings.js';
import { statePaths } from '../platform/paths.js';
import type { CommonOptions } from '../project/open.js';

/**
 * Settings for commands that work without a project (proxy, alias): the project's config is used when there is
 * one (its `proxy.port`), and none is needed. A config named with --config must load, though.
 */
export async function machineSettings(options: CommonOptions): Promise<Settings> {
  const env = options.env ?? process.env;
  const early = resolveSettings({ env, proxyPort: options.proxyPort, https: options.https });
  const find = findConfig({ cwd: options.cwd, configFile: options.config, cacheDir: statePaths(early.home).configCache });
  const config = options.config ? await find : await find.catch(() => undefined);
  return config ? resolveSettings({ env, proxyPort: options.proxyPort, https: options.https, config }) : early;
}
