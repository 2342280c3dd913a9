import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.js';
import { displayPath } from './resolve.js';

/**
 * Loads a config written as a module (.ts .mts .cts .js .mjs .cjs) without touching the user's folder: esbuild
 * bundles it (TypeScript stripped, relative imports inlined, packages left as absolute imports) into the state
 * folder's cache, keyed by the file's content, so a warm run only hashes the text and imports the cached file.
 * `import … from 'portbroker'` always resolves to this running copy, installed locally or not.
 */
export async function loadModuleConfig(file: string, content: string, cacheDir: string): Promise<unknown> {
  const key = hash(`${VERSION}\0${file}\0${content}`);
  const base = path.join(cacheDir, hash(file).slice(0, 16));
  const cached = `${base}.mjs`;
  if (!isFresh(`${base}.json`, key)) await build(file, cached, `${base}.json`, key);
  try {
    const mod = (await import(`${pathToFileURL(cached).href}?v=${key.slice(0, 12)}`)) as { default?: unknown };
    return mod.default ?? mod;
  } catch (error) {
    throw new ConfigError(displayPath(file), [{ path: '', message: `failed while loading: ${(error as Error).message}` }]);
  }
}

interface Manifest {
  key: string;
  /** Other files the bundle inlined, with the size and mtime they had. */
  inputs: Array<{ file: string; size: number; mtimeMs: number }>;
}

function isFresh(manifestFile: string, key: string): boolean {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as Manifest;
  } catch {
    return false;
  }
  if (manifest.key !== key) return false;
  return manifest.inputs.every((input) => {
    try {
      const st = statSync(input.file);
      return st.size === input.size && st.mtimeMs === input.mtimeMs;
    } catch {
      return false;
    }
  });
}

async function build(file: string, outFile: string, manifestFile: string, key: string): Promise<void> {
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
  mkdirSync(path.dirname(outFile), { recursive: true, mode: 0o700 });
  writeAtomically(outFile, code);
  writeAtomically(manifestFile, JSON.stringify({ key, inputs } satisfies Manifest));
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
  writeFileSync(tmp, text);
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
