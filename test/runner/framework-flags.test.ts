import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addPortFlags, splitWords } from '../../src/runner/framework-flags.js';
import { joinArguments, prepareCommand } from '../../src/runner/command-line.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pb-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A folder whose package.json has these scripts. */
function withScripts(scripts: Record<string, string>): string {
  const folder = mkdtempSync(path.join(dir, 'pkg-'));
  writeFileSync(path.join(folder, 'package.json'), JSON.stringify({ name: 'x', scripts }));
  return folder;
}

const VITE = '--port 5000 --strictPort --host 127.0.0.1';

describe('addPortFlags', () => {
  it.each([
    ['vite', `vite ${VITE}`],
    ['vite dev', `vite dev ${VITE}`],
    ['vite apps/web', `vite apps/web ${VITE}`],
    ['npx vite', `npx vite ${VITE}`],
    ['npx -y vite@5', `npx -y vite@5 ${VITE}`],
    ['pnpm exec vite', `pnpm exec vite ${VITE}`],
    ['yarn vite', `yarn vite ${VITE}`],
    ['bunx vite', `bunx vite ${VITE}`],
    ['./node_modules/.bin/vite', `./node_modules/.bin/vite ${VITE}`],
    ['NODE_ENV=development vite', `NODE_ENV=development vite ${VITE}`],
    ['exec vite', `exec vite ${VITE}`],
    ['cross-env NODE_ENV=development vite', `cross-env NODE_ENV=development vite ${VITE}`],
    ['pnpm exec astro dev', 'pnpm exec astro dev --port 5000 --host 127.0.0.1'],
    ['astro dev', 'astro dev --port 5000 --host 127.0.0.1'],
    ['ng serve', 'ng serve --port 5000 --host 127.0.0.1'],
    ['npx storybook dev', 'npx storybook dev --port 5000 --host 127.0.0.1 --ci'],
    ['rsbuild dev', 'rsbuild dev --port 5000 --host 127.0.0.1'],
    ['react-router dev', `react-router dev ${VITE}`],
    ['webpack serve', 'webpack serve --port 5000 --host 127.0.0.1'],
    ['webpack-dev-server', 'webpack-dev-server --port 5000 --host 127.0.0.1'],
  ])('%s → %s', (command, expected) => {
    expect(addPortFlags(command, 5000).command).toBe(expected);
  });

  it('says what it added and for which server', () => {
    expect(addPortFlags('npx vite', 5000)).toEqual({ command: `npx vite ${VITE}`, added: VITE, server: 'vite' });
  });

  it.each(['vite build', 'vite --mode production build', 'astro build', 'ng build', 'node server.js', 'next dev', 'vite && echo done', 'vite | tee log', 'storybook build'])(
    'leaves %s alone',
    (command) => {
      expect(addPortFlags(command, 5000)).toEqual({ command, added: '' });
    },
  );

  it('leaves a command that sets the port to $PORT, {port} or the reserved port alone, without a conflict', () => {
    for (const command of ['vite --port $PORT', 'vite --port=${PORT}', 'vite --port {port}', 'vite --port 5000', 'storybook dev -p $PORT']) {
      const result = addPortFlags(command, 5000);
      expect(result.command).toBe(command);
      expect(result.added).toBe('');
      expect(result.conflict).toBeUndefined();
    }
  });

  it('reports a port of its own as a conflict and changes nothing', () => {
    expect(addPortFlags('vite --port 3000', 5000)).toMatchObject({ command: 'vite --port 3000', added: '', conflict: '3000', server: 'vite' });
    expect(addPortFlags('storybook dev -p 6006', 5000)).toMatchObject({ added: '', conflict: '6006' });
    expect(addPortFlags('ng serve --port=4200', 5000)).toMatchObject({ added: '', conflict: '4200' });
  });

  it('keeps flags the command has already (no second --host, no second --strictPort)', () => {
    expect(addPortFlags('vite --host 0.0.0.0', 5000).command).toBe('vite --host 0.0.0.0 --port 5000 --strictPort');
    expect(addPortFlags('vite --strictPort', 5000).command).toBe('vite --strictPort --port 5000 --host 127.0.0.1');
    expect(addPortFlags('vite --strict-port', 5000).command).toBe('vite --strict-port --port 5000 --host 127.0.0.1');
    expect(addPortFlags('storybook dev --ci', 5000).command).toBe('storybook dev --ci --port 5000 --host 127.0.0.1');
  });

  it('looks through npm run / pnpm / yarn scripts, with -- where npm needs it', () => {
    const cwd = withScripts({ dev: 'vite', start: 'astro dev', pinned: 'vite --port 3000', build: 'vite build' });
    expect(addPortFlags('npm run dev', 5000, cwd).command).toBe(`npm run dev -- ${VITE}`);
    expect(addPortFlags('npm start', 5000, cwd).command).toBe('npm start -- --port 5000 --host 127.0.0.1');
    expect(addPortFlags('pnpm run dev', 5000, cwd).command).toBe(`pnpm run dev ${VITE}`);
    expect(addPortFlags('pnpm dev', 5000, cwd).command).toBe(`pnpm dev ${VITE}`);
    expect(addPortFlags('yarn dev', 5000, cwd).command).toBe(`yarn dev ${VITE}`);
    expect(addPortFlags('npm run pinned', 5000, cwd)).toMatchObject({ added: '', conflict: '3000' });
    expect(addPortFlags('npm run build', 5000, cwd).added).toBe('');
    expect(addPortFlags('npm run dev', 5000).added).toBe(''); // no folder to read the script from
  });

  it('adds no second -- to npm run when the command has one', () => {
    const cwd = withScripts({ dev: 'vite' });
    expect(addPortFlags('npm run dev -- --open', 5000, cwd).command).toBe(`npm run dev -- --open ${VITE}`);
    expect(addPortFlags('npm run dev -- --port 3000', 5000, cwd)).toMatchObject({ added: '', conflict: '3000' });
  });

  it('leaves scripts reached through two npm runs alone (they would need two separators)', () => {
    const cwd = withScripts({ dev: 'npm run serve', serve: 'vite' });
    expect(addPortFlags('npm run dev', 5000, cwd).added).toBe('');
  });
});

describe('prepareCommand', () => {
  it('replaces {port} and adds flags', () => {
    expect(prepareCommand('python3 -m http.server {port}', 5000, dir).command).toBe('python3 -m http.server 5000');
    expect(prepareCommand('vite --port {port}', 5000, dir)).toMatchObject({ command: 'vite --port 5000', added: '' });
    expect(prepareCommand('npx vite', 5000, dir).added).toBe(VITE);
  });
});

describe('joinArguments', () => {
  it('takes one argument as a shell command and quotes several', () => {
    expect(joinArguments(['npm run dev && echo done'])).toBe('npm run dev && echo done');
    expect(joinArguments(['python3', '-m', 'http.server', '{port}'])).toBe('python3 -m http.server {port}');
    expect(joinArguments(['echo', "it's", 'a b', ''])).toBe(`echo 'it'\\''s' 'a b' ''`);
    expect(splitWords(joinArguments(['echo', "it's", 'a b']))).toEqual(['echo', "it's", 'a b']);
  });
});
