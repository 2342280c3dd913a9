import path from 'node:path';
import { findConfig, noConfigError } from '../config/load.js';
import type { ProjectConfig } from '../config/project-config.js';
import { resolveSettings, type Settings } from '../config/settings.js';
import { statePaths } from '../platform/paths.js';
import { checkStateFolder } from '../platform/state-folder.js';
import type { RegistryOptions } from '../ports/registry.js';

/** Options every command accepts, whether from the CLI or a program. */
export interface CommonOptions extends RegistryOptions {
  /** Folder to act from (default: the current one). */
  cwd?: string;
  /** An explicit config file. */
  config?: string;
  proxyPort?: number | string;
  https?: boolean;
  env?: NodeJS.ProcessEnv;
}

/**
 * How much a command needs the project's config:
 * - `required`: it works on the project (`up`, `port`, `ls`): none found is a usage error;
 * - `optional`: it works with or without one (`run`), but one that is there must load;
 * - `if-loadable`: it works on the machine (`proxy`, `alias`, `ls --all`): a config found by searching is used
 *   when it loads (its `proxy.port`) and ignored when it does not; one named with `--config` must load;
 * - `diagnose`: `doctor`, which reports a broken config (`configError`) instead of failing on it.
 */
export type ConfigNeed = 'required' | 'optional' | 'if-loadable' | 'diagnose';

export interface Context {
  settings: Settings;
  config?: ProjectConfig;
  /** `if-loadable` and `diagnose`: why the config found here did not load. */
  configError?: Error;
}

/**
 * The one way a command turns its options into settings and a config: flags beat environment, environment
 * beats config, config beats defaults. The state folder comes first (it holds the compiled-config cache), then
 * the config, then the settings that depend on it.
 */
export async function resolveContext(options: CommonOptions, need: 'required'): Promise<Context & { config: ProjectConfig }>;
export async function resolveContext(options: CommonOptions, need: ConfigNeed): Promise<Context>;
export async function resolveContext(options: CommonOptions, need: ConfigNeed): Promise<Context> {
  const env = options.env ?? process.env;
  const input = { env, proxyPort: options.proxyPort, https: options.https };
  const early = resolveSettings(input);
  // A state folder that is not the user's alone is refused before anything in it is read or imported.
  if (need !== 'diagnose') checkStateFolder(early.home);
  const cwd = path.resolve(options.cwd ?? process.cwd());
  let config: ProjectConfig | undefined;
  let configError: Error | undefined;
  try {
    config = await findConfig({ cwd, configFile: options.config, cacheDir: statePaths(early.home).configCache });
  } catch (error) {
    const tolerated = need === 'diagnose' || (need === 'if-loadable' && !options.config);
    if (!tolerated) throw error;
    configError = error as Error;
  }
  if (!config && !configError && need === 'required') throw noConfigError(cwd);
  const settings = config ? resolveSettings({ ...input, config }) : early;
  return { settings, config, configError };
}
