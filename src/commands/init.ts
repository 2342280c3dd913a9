import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SEARCH_PLACES } from '../config/load.js';
import { isDnsLabel, toDnsLabel } from '../config/names.js';
import { PortbrokerError } from '../errors.js';
import { findCheckout } from '../platform/git.js';
import { detectDevServer } from '../runner/framework-flags.js';

export interface InitOptions {
  cwd?: string;
}

export interface InitResult {
  file: string;
  services: Array<{ name: string; cwd: string; command: string; package: string; framework?: string }>;
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
  const existing = SEARCH_PLACES.map((place) => path.join(root, place)).find((file) => existsSync(file) && hasConfig(file));
  if (existing) {
    throw new PortbrokerError(`${existing} already holds a portbroker config; init never overwrites`, {
      details: ['edit that file, or delete it and run `portbroker init` again'],
    });
  }
  const runner = packageManager(root);
  const packages = await workspacePackages(root);
  const services: InitResult['services'] = [];
  const used = new Set<string>();
  for (const dir of packages) {
    const pkg = readPackage(dir);
    const dev = pkg?.scripts?.dev;
    if (!pkg || !dev) continue;
    let name = toDnsLabel(pkg.name ?? path.basename(dir));
    if (name === 'portbroker') name = 'portbroker-app';
    for (let n = 2; used.has(name); n++) name = `${toDnsLabel(pkg.name ?? path.basename(dir))}-${n}`;
    used.add(name);
    const cwd = path.relative(root, dir) || '.';
    services.push({ name, cwd, command: `${runner} dev`, package: pkg.name ?? path.basename(dir), framework: detectDevServer(dev)?.name });
  }
  const file = path.join(root, 'portbroker.config.ts');
  writeFileSync(file, render(services), { flag: 'wx' });
  return { file, services };
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

function hasConfig(file: string): boolean {
  if (path.basename(file) !== 'package.json') return true;
  return (readPackage(path.dirname(file)) as Record<string, unknown> | undefined)?.portbroker !== undefined;
}

function render(services: InitResult['services']): string {
  const q = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const body = services.length
    ? services
        .map((s) => {
          const note = `    // ${s.package}${s.framework ? `: ${s.framework} (portbroker adds the port flags it needs)` : ''}`;
          const key = isDnsLabel(s.name) ? s.name : q(s.name);
          return `${note}\n    ${key}: {\n      command: ${q(s.command)},\n      cwd: ${q(s.cwd)},\n    },`;
        })
        .join('\n')
    : `    // No package with a "dev" script was found. Declare your dev servers here, for example:\n    web: {\n      command: 'npm run dev',\n    },`;
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
