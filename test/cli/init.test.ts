import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/cli.js';

describe('init', () => {
  it('writes a config from npm workspaces and their dev scripts, which then loads', async () => {
    const fx = await fixture({
      'package.json': JSON.stringify({ name: '@acme/root', private: true, workspaces: ['apps/*', 'packages/*'] }),
      'apps/web/package.json': JSON.stringify({ name: '@acme/web', scripts: { dev: 'vite' } }),
      'apps/api/package.json': JSON.stringify({ name: '@acme/api', scripts: { dev: 'node server.js' } }),
      'packages/ui/package.json': JSON.stringify({ name: '@acme/ui', scripts: { build: 'tsc' } }),
    });
    const result = await fx.run(['init'], { cwd: path.join(fx.root, 'apps', 'web') });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`wrote ${path.join('..', '..', 'portbroker.config.ts')} with 2 services`);
    const text = readFileSync(path.join(fx.root, 'portbroker.config.ts'), 'utf8');
    expect(text).toContain("import { defineConfig } from 'portbroker';");
    expect(text).toContain('// @acme/web: vite (portbroker adds the port flags it needs)');

    const rows = JSON.parse((await fx.run(['ls', '--json'])).stdout) as Array<{ project: string; service: string }>;
    expect(rows.map((r) => r.service).sort()).toEqual(['api', 'web']);
    expect(rows[0]!.project).toBe('root');
    const env = JSON.parse((await fx.run(['env', 'web', '--json'])).stdout) as Record<string, string>;
    expect(env.API_URL).toBe(`http://api.root.localhost:${fx.proxyPort}`);
  });

  it('reads pnpm-workspace.yaml and uses pnpm', async () => {
    const fx = await fixture({
      'package.json': JSON.stringify({ name: 'shop' }),
      'pnpm-workspace.yaml': "packages:\n  - 'services/*'\n  - '!services/legacy'\n",
      'services/cart/package.json': JSON.stringify({ name: 'cart', scripts: { dev: 'astro dev' } }),
      'services/legacy/package.json': JSON.stringify({ name: 'legacy', scripts: { dev: 'node old.js' } }),
    });
    const result = JSON.parse((await fx.run(['init', '--json'])).stdout) as { services: Array<{ name: string; command: string; cwd: string; framework?: string }> };
    expect(result.services).toEqual([{ name: 'cart', cwd: 'services/cart', command: 'pnpm run dev', package: 'cart', framework: 'astro' }]);
    expect(result).toMatchObject({ skipped: [] });
    expect((await fx.run(['port', 'cart'])).code).toBe(0);
  });

  it('quotes keys that are not identifiers and skips watch-only scripts; the file loads as TypeScript', async () => {
    const fx = await fixture({
      'package.json': JSON.stringify({ name: 'acme', private: true, workspaces: ['apps/*', 'packages/*'] }),
      'apps/admin-panel/package.json': JSON.stringify({ name: '@acme/admin-panel', scripts: { dev: 'vite' } }),
      'apps/web/package.json': JSON.stringify({ name: 'web', scripts: { dev: 'next dev' } }),
      'packages/types/package.json': JSON.stringify({ name: '@acme/types', scripts: { dev: 'tsc -w -p .' } }),
      'packages/lib/package.json': JSON.stringify({ name: '@acme/lib', scripts: { dev: 'NODE_ENV=development vite build --watch' } }),
      'packages/css/package.json': JSON.stringify({ name: '@acme/css', scripts: { dev: 'npx tailwindcss -i in.css -o out.css --watch' } }),
      'packages/api/package.json': JSON.stringify({ name: '@acme/api', scripts: { dev: 'node --watch server.js' } }),
    });
    // As if typed in a shell: not under npx (which `npx vitest` would pass on).
    const result = await fx.run(['init'], { env: { npm_command: '' } });
    expect(result.code, result.stderr).toBe(0);
    const text = readFileSync(path.join(fx.root, 'portbroker.config.ts'), 'utf8');
    expect(text).toContain("    'admin-panel': {");
    expect(text).toContain('    web: {');
    expect(text).not.toMatch(/types|lib|css/);
    expect(result.stdout).toContain('skipped @acme/types (tsc -w -p .): tsc in watch mode rebuilds on change and serves nothing');
    expect(result.stdout).toContain('skipped @acme/lib');
    // Loaded through the real TypeScript compile path: hyphenated keys unquoted would be a syntax error.
    const rows = JSON.parse((await fx.run(['ls', '--json'])).stdout) as Array<{ service: string }>;
    expect(rows.map((r) => r.service).sort()).toEqual(['admin-panel', 'api', 'web']);
    // The hint uses the command that ran it: the bare binary here (not under node_modules, not through npx).
    expect(result.stdout).toMatch(/next: portbroker up$/m);
  });

  it('writes nothing for a repo without dev servers, and says what to do', async () => {
    const fx = await fixture({ 'package.json': JSON.stringify({ name: 'empty', scripts: { build: 'tsc' } }) });
    const result = await fx.run(['init']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`no dev server found in ${fx.root}`);
    expect(result.stderr).toContain('nothing written');
    expect(result.stderr).toContain('portbroker run web -- <command>');
    expect(existsSync(path.join(fx.root, 'portbroker.config.ts'))).toBe(false);
  });

  it('refuses to overwrite an existing config', async () => {
    const fx = await fixture({ 'package.json': JSON.stringify({ name: 'x', scripts: { dev: 'node x.js' } }), 'portbroker.config.ts': '// mine\n' });
    const result = await fx.run(['init']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/portbroker\.config\.ts already holds a portbroker config; init never overwrites/);
    expect(readFileSync(path.join(fx.root, 'portbroker.config.ts'), 'utf8')).toBe('// mine\n');
  });
});
