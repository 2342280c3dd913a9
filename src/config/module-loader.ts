import { createHash } from 'node:crypto';
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigError, PortbrokerError } from '../errors.js';
import { errnoInWords, fixFor } from '../platform/errno.js';
import { ensureStateFolder } from '../platform/state-folder.js';
import { displayPath } from './resolve.js';

/**
 * Loads a config written as a module (.ts .mts .cts .js .mjs .cjs) without touching the user's folder: esbuild
 * bundles it (TypeScript stripped, relative imports inlined, packages left as absolute imports) into the state
 * folder's cache, keyed by the file's content, so a warm run only hashes the text and imports the cached file.
 * `import … from 'portbroker'` always resolves to this running copy, installed locally or not.
 *
 * Importing runs code, so the cache must be trusted: it lives in the state folder, which is refused when another
 * user owns it or others can write it, and a cached module is named by the hash of its own content and imported
 * only when that still holds (a modified or half-written file is rebuilt, never run).
 */
export async function loadModuleConfig(file: string, content: string, cacheDir: string): Promise<unknown> {
  // The cache is <state folder>/cache/config (platform/paths.ts): each level must be ours alone.
  for (const dir of [path.dirname(path.dirname(cacheDir)), path.dirname(cacheDir), cacheDir]) ensureStateFolder(dir);
  const key = hash(`${VERSION}\0${file}\0${content}`);
  const manifestFile = path.join(cacheDir, `${hash(file).slice(0, 16)}.json`);
  let cached = freshModule(manifestFile, cacheDir, key);
  if (!cached) cached = await build(file, cacheDir, manifestFile, key);
  try {
    const mod = (await import(pathToFileURL(cached).href)) as { default?: unknown };
    return mod.default ?? mod;
  } catch (error) {
    throw new ConfigError(displayPath(file), [{ path: '', message: `failed while loading: ${(error as Error).message}` }]);
  }
}

/** The local files a module config imports (inlined into its cached bundle): a live reload watches them too. */
export function bundledInputs(file: string, cacheDir: string): string[] {
  return readManifest(path.join(cacheDir, `${hash(file).slice(0, 16)}.json`))?.inputs.map((input) => input.file) ?? [];
}

interface Manifest {
  key: string;
  /** The bundle's file name in the cache: the sha256 of its content. */
  module: string;
  /** Other files the bundle inlined, with the size and mtime they had. */
  inputs: Array<{ file: string; size: number; mtimeMs: number }>;
}

/** The cached bundle for `key`, when its inputs are unchanged and its content still matches its name. */
function freshModule(manifestFile: string, cacheDir: string, key: string): string | undefined {
  const manifest = readManifest(manifestFile);
  if (manifest?.key !== key || !/^[0-9a-f]{64}$/.test(manifest.module)) return undefined;
  const inputsUnchanged = manifest.inputs.every((input) => {
    try {
      const st = statSync(input.file);
      return st.size === input.size && st.mtimeMs === input.mtimeMs;
    } catch {
      return false;
    }
  });
  if (!inputsUnchanged) return undefined;
  const cached = path.join(cacheDir, `${manifest.module}.mjs`);
  try {
    return hash(readFileSync(cached, 'utf8')) === manifest.module ? cached : undefined;
  } catch {
    return undefined;
  }
}

function readManifest(manifestFile: string): Manifest | undefined {
  try {
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Partial<Manifest>;
    return typeof manifest.key === 'string' && typeof manifest.module === 'string' && Array.isArray(manifest.inputs) ? (manifest as Manifest) : undefined;
  } catch {
    return undefined;
  }
}

/** Bundles the config into the cache; returns the bundle's path. */
async function build(file: string, cacheDir: string, manifestFile: string, key: string): Promise<string> {
  const esbuild = await import('esbuild');
  const url = pathToFileURL(file).href;
  let result: import('esbuild').BuildResult<{ write: false; metafile: true }>;
  try {
    result = await esbuild.build({
      entryPoints: [file],
      bundle: true,
      write: false,
      metafile: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      logLevel: 'silent',
      absWorkingDir: path.dirname(file),
      // The bundle runs from the cache, so give back what a module learns about its own location.
      define: {
        'import.meta.url': JSON.stringify(url),
        'import.meta.filename': JSON.stringify(file),
        'import.meta.dirname': JSON.stringify(path.dirname(file)),
        __filename: JSON.stringify(file),
        __dirname: JSON.stringify(path.dirname(file)),
      },
      banner: { js: `import { createRequire as __pbRequire } from 'node:module'; const require = __pbRequire(${JSON.stringify(url)});` },
      plugins: [packagesStayOutside()],
    });
  } catch (error) {
    const failure = error as { errors?: import('esbuild').Message[] };
    const first = failure.errors?.[0];
    const where = first?.location ? `${displayPath(path.resolve(path.dirname(file), first.location.file))}:${first.location.line}:${first.location.column + 1}` : displayPath(file);
    throw new ConfigError(where, [{ path: '', message: first?.text ?? (error as Error).message }]);
  }
  const code = result.outputFiles[0]?.text ?? '';
  const inputs = Object.keys(result.metafile.inputs)
    .map((input) => path.resolve(path.dirname(file), input))
    .filter((input) => input !== file && !input.startsWith(PACKAGE_ROOT))
    .map((input) => {
      const st = statSync(input);
      return { file: input, size: st.size, mtimeMs: st.mtimeMs };
    });
  const module = hash(code);
  const outFile = path.join(cacheDir, `${module}.mjs`);
  const previous = readManifest(manifestFile)?.module;
  try {
    writeAtomically(outFile, code);
    writeAtomically(manifestFile, JSON.stringify({ key, module, inputs } satisfies Manifest));
  } catch (error) {
    throw new PortbrokerError(`cannot write the config cache ${cacheDir}: ${errnoInWords(error)}`, { details: [fixFor(error, cacheDir)] });
  }
  // The bundle of the config's previous content is no longer wanted (another config never shares it: names differ).
  if (previous && previous !== module && /^[0-9a-f]{64}$/.test(previous)) rmSync(path.join(cacheDir, `${previous}.mjs`), { force: true });
  return outFile;
}

/** Bare imports stay imports, pinned to the absolute file they resolve to from the config's folder. */
function packagesStayOutside(): import('esbuild').Plugin {
  return {
    name: 'portbroker-packages',
    setup(build) {
      build.onResolve({ filter: /^portbroker(\/.*)?$/ }, () => ({ path: SELF_ENTRY }));
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === 'inner' || args.path.startsWith('node:')) return undefined;
        const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: 'inner' });
        if (resolved.errors.length > 0 || !path.isAbsolute(resolved.path)) return { path: args.path, external: true };
        return { path: pathToFileURL(resolved.path).href, external: true };
      });
    },
  };
}

function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const HERE = path.dirname(fileURLToPath(import.meta.url));
const PACKAGE_ROOT = path.resolve(HERE, '..', '..');
// Only defineConfig is needed at run time; the full index would drag every dependency into each load.
const SELF_ENTRY = path.join(PACKAGE_ROOT, 'dist', 'config', 'define.js');
const VERSION = (() => {
  try {
    return (JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'dev';
  }
})();
