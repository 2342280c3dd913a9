import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, PortbrokerError } from '../errors.js';
import { findCheckout } from '../platform/git.js';
import type { ProjectConfig } from './project-config.js';
import { displayPath, resolveConfig } from './resolve.js';
import { validateConfig } from './validate.js';

export const MODULE_NAME = 'portbroker';

const MODULE_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'];

/** Every place a config may live, checked in this order in each folder. */
export const SEARCH_PLACES = [
  'portbroker.config.ts',
  'portbroker.config.mts',
  'portbroker.config.js',
  'portbroker.config.mjs',
  'portbroker.config.cjs',
  'portbroker.config.json',
  '.portbrokerrc',
  '.portbrokerrc.json',
  '.portbrokerrc.yaml',
  '.portbrokerrc.yml',
  '.portbrokerrc.ts',
  '.portbrokerrc.mts',
  '.portbrokerrc.js',
  '.portbrokerrc.mjs',
  '.portbrokerrc.cjs',
  '.config/portbrokerrc',
  '.config/portbrokerrc.json',
  '.config/portbrokerrc.yaml',
  '.config/portbrokerrc.yml',
  '.config/portbrokerrc.ts',
  '.config/portbrokerrc.mts',
  '.config/portbrokerrc.js',
  '.config/portbrokerrc.mjs',
  '.config/portbrokerrc.cjs',
  'package.json',
];

export interface LoadConfigOptions {
  /** Where to start looking (default: the current folder). */
  cwd?: string;
  /** An explicit config file (`--config`); no search then. */
  configFile?: string;
  /** Where compiled module configs are cached (the state folder's `cache/config`). */
  cacheDir: string;
}

/**
 * Finds and loads the project's config: from `cwd` up to the repository root (the nearest `.git`), so a
 * command run inside `apps/web` finds the root config. Returns undefined when there is none.
 */
export async function findConfig(options: LoadConfigOptions): Promise<ProjectConfig | undefined> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const explorer = await createExplorer(options.cacheDir);
  let result: { config: unknown; filepath: string; isEmpty?: boolean } | null;
  try {
    if (options.configFile) {
      const file = path.resolve(cwd, options.configFile);
      if (!existsSync(file)) throw new ConfigError(displayPath(file), [{ path: '', message: 'no such file (given with --config)' }]);
      result = await explorer.load(file);
    } else {
      result = null;
      for (const dir of searchDirs(cwd)) {
        refuseTwoConfigs(dir);
        result = await explorer.search(dir);
        if (result) break;
      }
    }
  } catch (error) {
    throw asConfigError(error);
  }
  if (!result) return undefined;
  if (result.isEmpty) throw new ConfigError(displayPath(result.filepath), [{ path: '', message: 'is empty' }]);
  const raw = validateConfig(result.config, displayPath(result.filepath));
  return resolveConfig(raw, result.filepath);
}

/** Like `findConfig`, but a missing config is a usage error telling how to create one. */
export async function loadConfig(options: LoadConfigOptions): Promise<ProjectConfig> {
  const config = await findConfig(options);
  if (config) return config;
  throw noConfigError(path.resolve(options.cwd ?? process.cwd()));
}

/** No config in `cwd` or above it: how to create one. */
export function noConfigError(cwd: string): PortbrokerError {
  const top = findCheckout(cwd)?.root;
  return new PortbrokerError(`no portbroker config found in ${cwd}${top && top !== cwd ? ` or above it up to ${top}` : ''}`, {
    exitCode: 2,
    details: ['create one with `portbroker init`, or pass --config <file>'],
  });
}

/** Folders from `cwd` up to the repository root (or the filesystem root outside git). */
function searchDirs(cwd: string): string[] {
  const stop = findCheckout(cwd)?.root;
  const dirs: string[] = [];
  let dir = cwd;
  for (;;) {
    dirs.push(dir);
    const parent = path.dirname(dir);
    if (dir === stop || parent === dir) return dirs;
    dir = parent;
  }
}

async function createExplorer(cacheDir: string) {
  const [{ cosmiconfig }, { loadModuleConfig }] = await Promise.all([import('cosmiconfig'), import('./module-loader.js')]);
  const moduleLoader = (file: string, content: string) => loadModuleConfig(file, content, cacheDir);
  return cosmiconfig(MODULE_NAME, {
    searchPlaces: SEARCH_PLACES,
    // We walk the folders ourselves: 'project' would stop at apps/web/package.json, 'global' would also read ~/.config.
    searchStrategy: 'none',
    loaders: { ...Object.fromEntries(MODULE_EXTENSIONS.map((ext) => [ext, moduleLoader])), '.json': loadJson },
    cache: false,
  });
}

/**
 * JSON.parse with the position turned into line:column. cosmiconfig's own JSON loader pulls in parse-json and
 * Babel's code frame, a fifth of a warm start-up, for an error message this gives too.
 */
function loadJson(file: string, content: string): unknown {
  try {
    return JSON.parse(content);
  } catch (error) {
    const message = (error as Error).message;
    const at = /position (\d+)/.exec(message);
    let where = '';
    if (at) {
      const before = content.slice(0, Number(at[1]));
      const line = before.split('\n').length;
      where = `:${line}:${Number(at[1]) - before.lastIndexOf('\n')}`;
    }
    throw new ConfigError(`${displayPath(file)}${where}`, [{ path: '', message: `invalid JSON: ${message.replace(/ in JSON at position \d+.*$/, '')}` }]);
  }
}

/** Whether a file in SEARCH_PLACES holds a config: any of ours does, package.json only with a `portbroker` field. */
export function holdsConfig(file: string): boolean {
  if (!existsSync(file)) return false;
  if (path.basename(file) !== 'package.json') return true;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>)[MODULE_NAME] !== undefined;
  } catch {
    return false;
  }
}

/** Two configs in one folder (`portbroker.config.ts` beside a `.json`): which one counts is not for us to guess. */
function refuseTwoConfigs(dir: string): void {
  const found = SEARCH_PLACES.filter((place) => holdsConfig(path.join(dir, place)));
  if (found.length < 2) return;
  throw new ConfigError(displayPath(path.join(dir, found[0]!)), [
    { path: '', message: `${found.join(' and ')} both hold a portbroker config in ${displayPath(dir) || '.'}; keep one and delete the other${found.length > 2 ? 's' : ''}` },
  ]);
}

function asConfigError(error: unknown): Error {
  if (error instanceof PortbrokerError) return error;
  const err = error as Error & { filepath?: string; code?: string; reason?: string; mark?: { line: number; column: number } };
  if (err.filepath && err.reason && err.mark) {
    // js-yaml: cosmiconfig's message starts with a "YAML Error in <file>:" heading; the reason and position say it all.
    return new ConfigError(`${displayPath(err.filepath)}:${err.mark.line + 1}:${err.mark.column + 1}`, [{ path: '', message: `invalid YAML: ${err.reason}` }]);
  }
  if (err.filepath) {
    // The first line that says something: not a heading ending in ":" (a loader's "… Error in <file>:").
    const lines = err.message.split('\n').map((l) => l.trim()).filter(Boolean);
    const message = (lines.find((l) => !l.endsWith(':')) ?? lines[0] ?? 'cannot be read').replace(/^JSONError:\s*/, '');
    return new ConfigError(displayPath(err.filepath), [{ path: '', message }]);
  }
  return err;
}
