import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/cli.js';

// Pinned ports in tests sit below the OS ephemeral range (32768-60999 on Linux) and the allocation range, where
// neither outgoing connections nor other tests' services can hold them.
const SERVICES = `{ services: { web: { command: 'node web.js' }, api: { command: 'node api.js', port: 24329 } } }`;

describe('config search places', () => {
  const places: Array<[string, string]> = [
    ['portbroker.config.ts', `import { defineConfig } from 'portbroker';\nconst typed: number = 1;\nexport default defineConfig(${SERVICES});\n`],
    ['portbroker.config.mts', `import { defineConfig } from 'portbroker';\nexport default defineConfig(${SERVICES} as const);\n`],
    ['portbroker.config.js', `export default ${SERVICES};\n`],
    ['portbroker.config.mjs', `export default ${SERVICES};\n`],
    ['portbroker.config.cjs', `module.exports = ${SERVICES};\n`],
    ['portbroker.config.json', JSON.stringify({ services: { web: { command: 'node web.js' }, api: { command: 'node api.js', port: 24329 } } })],
    ['.portbrokerrc', `services:\n  web:\n    command: node web.js\n  api:\n    command: node api.js\n    port: 24329\n`],
    ['.portbrokerrc.json', JSON.stringify({ services: { web: { command: 'node web.js' }, api: { command: 'node api.js', port: 24329 } } })],
    ['package.json', JSON.stringify({ name: 'x', portbroker: { services: { web: { command: 'node web.js' }, api: { command: 'node api.js', port: 24329 } } } })],
  ];

  for (const [file, content] of places) {
    it(`loads ${file}`, async () => {
      const fx = await fixture({ [file]: content });
      const result = await fx.run(['ls', '--json']);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const rows = JSON.parse(result.stdout) as Array<{ service: string; port: number }>;
      expect(rows.map((r) => r.service).sort()).toEqual(['api', 'web']);
      expect(rows.find((r) => r.service === 'api')?.port).toBe(24329);
    });
  }
});

describe('config loading', () => {
  it('finds the root config from a package folder that has its own package.json', async () => {
    const fx = await fixture({
      'package.json': JSON.stringify({ name: '@acme/root', workspaces: ['apps/*'] }),
      'portbroker.config.ts': `export default { services: { web: { command: 'x', cwd: 'apps/web' } } };\n`,
      'apps/web/package.json': JSON.stringify({ name: '@acme/web', scripts: { dev: 'vite' } }),
    });
    const fromRoot = await fx.run(['port', 'web']);
    const fromPackage = await fx.run(['port', 'web'], { cwd: path.join(fx.root, 'apps', 'web') });
    expect(fromRoot.code).toBe(0);
    expect(fromPackage.stdout).toBe(fromRoot.stdout);
    // The project is named after the root package.json, scope dropped.
    const url = await fx.run(['url', 'web'], { cwd: path.join(fx.root, 'apps', 'web') });
    expect(url.stdout.trim()).toBe(`http://web.root.localhost:${fx.proxyPort}`);
  });

  it('does not look above the repository root', async () => {
    const fx = await fixture({ 'portbroker.config.json': JSON.stringify({ services: { web: {} } }), 'inner/.git/HEAD': 'ref: refs/heads/main\n' });
    const result = await fx.run(['port', 'web'], { cwd: path.join(fx.root, 'inner') });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/no portbroker config found in .*inner/);
    expect(result.stderr).toMatch(/portbroker init/);
  });

  it('loads a .ts config without writing next to it, and caches the compiled module in the state folder', async () => {
    const fx = await fixture({
      'portbroker.config.ts': `import { defineConfig } from 'portbroker';\nimport { ports } from './ports.ts';\nexport default defineConfig({ services: { web: { command: 'x', port: ports.web } } });\n`,
      'ports.ts': `export const ports: { web: number } = { web: 24321 };\n`,
    });
    const before = readdirSync(fx.root).sort();
    expect((await fx.run(['port', 'web'])).stdout.trim()).toBe('24321');
    expect(readdirSync(fx.root).sort()).toEqual(before);
    const cacheDir = path.join(fx.home, 'cache', 'config');
    const cached = readdirSync(cacheDir).filter((f) => f.endsWith('.mjs'));
    expect(cached).toHaveLength(1);
    const mtime = statSync(path.join(cacheDir, cached[0]!)).mtimeMs;

    // A warm run reuses the compiled file…
    expect((await fx.run(['port', 'web'])).stdout.trim()).toBe('24321');
    expect(statSync(path.join(cacheDir, cached[0]!)).mtimeMs).toBe(mtime);

    // …and a change in an imported file is seen.
    fx.write('ports.ts', `export const ports: { web: number } = { web: 24322 };\n`);
    expect((await fx.run(['port', 'web'])).stdout.trim()).toBe('24322');
    // The bundle is named by its content's hash: the new one replaces the old.
    const rebuilt = readdirSync(cacheDir).filter((f) => f.endsWith('.mjs'));
    expect(rebuilt).toHaveLength(1);
    expect(rebuilt[0]).not.toBe(cached[0]);
    expect(readFileSync(path.join(cacheDir, rebuilt[0]!), 'utf8')).toContain('24322');
  });

  it('reports a syntax error with file, line and column', async () => {
    const fx = await fixture({ 'portbroker.config.ts': `export default {\n  services: { web: { command: 'x' }\n;\n` });
    const result = await fx.run(['port', 'web']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/portbroker\.config\.ts:3:1: /);
  });

  it('reports invalid JSON with line and column', async () => {
    const fx = await fixture({ 'portbroker.config.json': '{\n  "services": { "web": {} },\n}\n' });
    const result = await fx.run(['port', 'web']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^portbroker: portbroker\.config\.json:3:1: invalid JSON: /);
  });

  it('reports invalid YAML with its reason, line and column (not cut off after the heading)', async () => {
    const fx = await fixture({ '.portbrokerrc.yaml': 'services:\n  web:\n    command: "x\n  api: [\n' });
    const result = await fx.run(['port', 'web']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^portbroker: \.portbrokerrc\.yaml:\d+:\d+: invalid YAML: unexpected end of the stream within a double quoted scalar/);
  });

  it('refuses two configs side by side, naming both', async () => {
    const fx = await fixture({
      'portbroker.config.ts': 'export default { services: { api: {} } };\n',
      'portbroker.config.json': '{ "services": { "web": {} } }',
      'apps/web/.keep': '',
    });
    for (const cwd of [fx.root, `${fx.root}/apps/web`]) {
      const result = await fx.run(['ls'], { cwd });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('portbroker.config.ts and portbroker.config.json both hold a portbroker config');
      expect(result.stderr).toContain('keep one and delete the other');
    }
    // A package.json without a portbroker field is not a config.
    const one = await fixture({ 'package.json': '{ "name": "x" }', 'portbroker.config.json': '{ "services": { "web": {} } }' });
    expect((await one.run(['port', 'web'])).code).toBe(0);
  });

  it('reports an exception thrown by the config', async () => {
    const fx = await fixture({ 'portbroker.config.ts': `throw new Error('no secrets file');\nexport default {};\n` });
    const result = await fx.run(['port', 'web']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/portbroker\.config\.ts: failed while loading: no secrets file/);
  });

  it('lets a config import packages from its own node_modules', async () => {
    const fx = await fixture({
      'node_modules/acme-ports/package.json': JSON.stringify({ name: 'acme-ports', type: 'module', exports: './index.js' }),
      'node_modules/acme-ports/index.js': `export const web = 24323;\n`,
      'portbroker.config.ts': `import { web } from 'acme-ports';\nexport default { services: { web: { command: 'x', port: web } } };\n`,
    });
    const result = await fx.run(['port', 'web']);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('24323');
  });

  it('uses --config and --cwd', async () => {
    const fx = await fixture({ 'deploy/pb.json': JSON.stringify({ name: 'deploy', services: { web: { port: 24324 } } }) });
    const result = await fx.run(['port', 'web', '--config', 'deploy/pb.json']);
    expect(result.stdout.trim()).toBe('24324');
    const other = await fixture({});
    const viaCwd = await other.run(['url', 'web', '--cwd', fx.root, '--config', 'deploy/pb.json']);
    expect(viaCwd.stdout.trim()).toBe(`http://web.deploy.localhost:${other.proxyPort}`);
  });
});
