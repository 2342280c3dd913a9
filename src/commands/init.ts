import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { holdsConfig, SEARCH_PLACES } from '../config/load.js';
import { toDnsLabel } from '../config/names.js';
import { PortbrokerError } from '../errors.js';
import { findCheckout } from '../platform/git.js';
import { detectDevServer } from '../runner/framework-flags.js';

export interface InitOptions {
  cwd?: string;
}

export interface InitResult {
  file: string;
  services: Array<{ name: string; cwd: string; command: string; package: string; framework?: string }>;
  /** Packages whose `dev` script only watches and rebuilds (`tsc -w`): nothing to give a port or a URL. */
  skipped: Array<{ package: string; script: string; reason: string }>;
}

interface PackageJson {
  name?: string;
  scripts?: Record<string, string>;
  workspaces?: string[] | { packages?: string[] };
}

/**
 * Writes a starting `portbroker.config.ts` at the workspace root: one service per workspace package with a
 * `dev` script (npm, yarn and pnpm workspaces), run through the workspace's package manager. Never overwrites.
 */
export async function init(options: InitOptions = {}): Promise<InitResult> {
  const root = workspaceRoot(path.resolve(options.cwd ?? process.cwd()));
  const existing = SEARCH_PLACES.map((place) => path.join(root, place)).find(holdsConfig);
  if (existing) {
    throw new PortbrokerError(`${existing} already holds a portbroker config; init never overwrites`, {
      details: ['edit that file, or delete it and run `portbroker init` again'],
    });
  }
  const runner = packageManager(root);
  const packages = await workspacePackages(root);
  const services: InitResult['services'] = [];
  const skipped: InitResult['skipped'] = [];
  const used = new Set<string>();
  for (const dir of packages) {
    const pkg = readPackage(dir);
    const dev = pkg?.scripts?.dev;
    if (!pkg || !dev) continue;
    const watcher = watchOnlyTool(dev);
    if (watcher) {
      skipped.push({ package: pkg.name ?? path.basename(dir), script: dev, reason: `${watcher} in watch mode rebuilds on change and serves nothing` });
      continue;
    }
    let name = toDnsLabel(pkg.name ?? path.basename(dir));
    if (name === 'portbroker') name = 'portbroker-app';
    for (let n = 2; used.has(name); n++) name = `${toDnsLabel(pkg.name ?? path.basename(dir))}-${n}`;
    used.add(name);
    const cwd = path.relative(root, dir) || '.';
    services.push({ name, cwd, command: `${runner} dev`, package: pkg.name ?? path.basename(dir), framework: detectDevServer(dev)?.name });
  }
  const file = path.join(root, 'portbroker.config.ts');
  if (services.length === 0) {
    throw new PortbrokerError(`no dev server found in ${root}: ${packages.length > 1 ? `none of its ${packages.length} workspace packages has` : 'no package here has'} a "dev" script that serves${skipped.length ? ` (skipped ${skipped.map((s) => `${s.package}: ${s.script}`).join(', ')})` : ''}; nothing written`, {
      details: [
        "write portbroker.config.ts yourself: export default { services: { web: { command: 'npm run start' } } }",
        'or give one command a port and a URL without a config: portbroker run web -- <command>',
      ],
    });
  }
  writeFileSync(file, render(services), { flag: 'wx' });
  return { file, services, skipped };
}

/** The nearest folder above `cwd` that declares workspaces, else the git root, else `cwd`. */
function workspaceRoot(cwd: string): string {
  const stop = findCheckout(cwd)?.root;
  for (let dir = cwd; ; dir = path.dirname(dir)) {
    const pkg = readPackage(dir);
    if (pkg?.workspaces || existsSync(path.join(dir, 'pnpm-workspace.yaml'))) return dir;
    if (dir === stop || path.dirname(dir) === dir) break;
  }
  return stop ?? cwd;
}

async function workspacePackages(root: string): Promise<string[]> {
  const patterns: string[] = [];
  const pkg = readPackage(root);
  const ws = pkg?.workspaces;
  if (Array.isArray(ws)) patterns.push(...ws);
  else if (ws?.packages) patterns.push(...ws.packages);
  const pnpmFile = path.join(root, 'pnpm-workspace.yaml');
  if (existsSync(pnpmFile)) {
    const { load } = await import('js-yaml');
    const doc = load(readFileSync(pnpmFile, 'utf8')) as { packages?: string[] } | undefined;
    patterns.push(...(doc?.packages ?? []));
  }
  if (patterns.length === 0) return [root];
  const { glob } = await import('tinyglobby');
  const positive = patterns.filter((p) => !p.startsWith('!')).map((p) => `${p.replace(/\/+$/, '')}/package.json`);
  const negative = patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
  const files = await glob(positive, { cwd: root, ignore: ['**/node_modules/**', ...negative], absolute: true });
  const dirs = files.map((f) => path.dirname(f)).sort();
  // A root that is itself a dev server (rare in a workspace) comes first.
  return readPackage(root)?.scripts?.dev ? [root, ...dirs.filter((d) => d !== root)] : dirs;
}

function packageManager(root: string): string {
  if (existsSync(path.join(root, 'pnpm-lock.yaml')) || existsSync(path.join(root, 'pnpm-workspace.yaml'))) return 'pnpm run';
  if (existsSync(path.join(root, 'yarn.lock'))) return 'yarn run';
  if (existsSync(path.join(root, 'bun.lockb')) || existsSync(path.join(root, 'bun.lock'))) return 'bun run';
  return 'npm run';
}

function readPackage(dir: string): PackageJson | undefined {
  try {
    return JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as PackageJson;
  } catch {
    return undefined;
  }
}

/** Build tools that, with a watch flag, rebuild on change and serve nothing (`tsc -w`, `vite build --watch`). */
const WATCH_TOOLS = new Set(['tsc', 'babel', 'rollup', 'tsup', 'tsdown', 'esbuild', 'swc', 'sass', 'tailwindcss', 'postcss', 'lessc', 'unbuild', 'webpack', 'vite', 'chokidar', 'onchange']);

/** The tool of a `dev` script that only watches and rebuilds, else undefined. */
export function watchOnlyTool(script: string): string | undefined {
  const words = script.trim().split(/\s+/).filter((w) => !/^[A-Z_][A-Z0-9_]*=/.test(w));
  while (['npx', 'bunx', 'cross-env', 'exec', 'pnpm', 'yarn', 'npm'].includes(words[0] ?? '')) words.shift();
  const tool = path.basename(words[0] ?? '');
  if (!WATCH_TOOLS.has(tool)) return undefined;
  // Watchers by nature; the others only with a watch flag, and vite/webpack only when building, not serving.
  if (tool === 'chokidar' || tool === 'onchange') return tool;
  if (tool === 'vite' && words[1] !== 'build') return undefined;
  if (tool === 'webpack' && (words[1] === 'serve' || words.includes('--serve'))) return undefined;
  const watching = words.some((w) => w === '-w' || w === '--watch' || w.startsWith('--watch=') || (tool === 'webpack' && w === 'watch'));
  return watching ? (tool === 'vite' ? 'vite build' : tool) : undefined;
}

function render(services: InitResult['services']): string {
  const q = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const body = services
        .map((s) => {
          const note = `    // ${s.package}${s.framework ? `: ${s.framework} (portbroker adds the port flags it needs)` : ''}`;
          // A service name may hold "-" (admin-panel): not a bare identifier in TypeScript.
          const key = /^[A-Za-z_$][\w$]*$/.test(s.name) ? s.name : q(s.name);
          return `${note}\n    ${key}: {\n      command: ${q(s.command)},\n      cwd: ${q(s.cwd)},\n    },`;
        })
        .join('\n');
  return `import { defineConfig } from 'portbroker';

// Every service gets a stable port (in $PORT) and a URL: http://<service>.<project>.localhost:7355.
// \`npx portbroker up\` starts them all; \`npx portbroker ls\` lists ports and URLs.
// More per service: env (\${<service>.url} references), dependsOn, ready: { http: '/health' }, port (pin),
// proxy: false (a non-HTTP port), start: 'on-demand'.
export default defineConfig({
  services: {
${body}
  },
});
`;
}
