import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { addPortFlags, describeAdded, detectDevServer, splitWords } from '../../src/runner/framework-flags.js';
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
const WDS_SOCKET = '--client-web-socket-url auto://0.0.0.0:0/ws';

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
    ['webpack serve', `webpack serve --port 5000 --host 127.0.0.1 ${WDS_SOCKET}`],
    ['webpack-dev-server', `webpack-dev-server --port 5000 --host 127.0.0.1 ${WDS_SOCKET}`],
    ['npx webpack serve --mode development', `npx webpack serve --mode development --port 5000 --host 127.0.0.1 ${WDS_SOCKET}`],
    // Python: as a program, a module (python -m) or a script, directly or through uv/poetry/pipenv.
    ['python3 -m http.server', 'python3 -m http.server 5000 --bind 127.0.0.1'],
    ['python3 -m http.server 5000', 'python3 -m http.server 5000 --bind 127.0.0.1'],
    ['python -u -m http.server --directory dist', 'python -u -m http.server --directory dist 5000 --bind 127.0.0.1'],
    ['flask run', 'flask run --port 5000 --host 127.0.0.1'],
    ['flask --app hello run --debug', 'flask --app hello run --debug --port 5000 --host 127.0.0.1'],
    ['python3 -m flask run', 'python3 -m flask run --port 5000 --host 127.0.0.1'],
    ['poetry run flask run', 'poetry run flask run --port 5000 --host 127.0.0.1'],
    ['python3 manage.py runserver', 'python3 manage.py runserver 127.0.0.1:5000'],
    ['./manage.py runserver --noreload', './manage.py runserver --noreload 127.0.0.1:5000'],
    ['python -m django runserver --settings mysite.dev', 'python -m django runserver --settings mysite.dev 127.0.0.1:5000'],
    ['uvicorn main:app --reload', 'uvicorn main:app --reload --port 5000 --host 127.0.0.1'],
    ['uv run uvicorn main:app', 'uv run uvicorn main:app --port 5000 --host 127.0.0.1'],
    ['fastapi dev main.py', 'fastapi dev main.py --port 5000 --host 127.0.0.1'],
    ['gunicorn app:app', 'gunicorn app:app --bind 127.0.0.1:5000'],
    // Ruby, PHP, static site generators.
    ['rails server', 'rails server -p 5000 -b 127.0.0.1'],
    ['bundle exec rails s', 'bundle exec rails s -p 5000 -b 127.0.0.1'],
    ['bin/rails s', 'bin/rails s -p 5000 -b 127.0.0.1'],
    ['php -S', 'php -S 127.0.0.1:5000'],
    ['php artisan serve', 'php artisan serve --port 5000 --host 127.0.0.1'],
    ['hugo server -D', 'hugo server -D --port 5000 --bind 127.0.0.1'],
    ['bundle exec jekyll serve', 'bundle exec jekyll serve --port 5000 --host 127.0.0.1'],
    // Next reads PORT: only the bind flag.
    ['next dev', 'next dev -H 127.0.0.1'],
    ['next', 'next -H 127.0.0.1'],
    ['npx next start', 'npx next start -H 127.0.0.1'],
    ['next dev --turbopack', 'next dev --turbopack -H 127.0.0.1'],
  ])('%s → %s', (command, expected) => {
    expect(addPortFlags(command, 5000).command).toBe(expected);
  });

  it('says what it added and for which server', () => {
    expect(addPortFlags('npx vite', 5000)).toEqual({ command: `npx vite ${VITE}`, added: VITE, server: 'vite', reasons: ['port', 'loopback'] });
    expect(describeAdded(addPortFlags('npx vite', 5000))).toBe(`vite ignores PORT, so portbroker added ${VITE}`);
    expect(describeAdded(addPortFlags('next dev', 5000))).toBe('portbroker added -H 127.0.0.1 so next listens on loopback only');
    expect(describeAdded(addPortFlags('python3 -m http.server 5000', 5000))).toBe('portbroker added --bind 127.0.0.1 so http.server listens on loopback only');
    expect(describeAdded(addPortFlags('webpack serve --port $PORT', 5000))).toBe(
      `portbroker added --host 127.0.0.1 ${WDS_SOCKET} so webpack-dev-server listens on loopback only and webpack-dev-server's HMR socket goes through the proxy`,
    );
    expect(describeAdded(addPortFlags('webpack serve --port $PORT --host 0.0.0.0', 5000))).toBe(`portbroker added ${WDS_SOCKET} so webpack-dev-server's HMR socket goes through the proxy`);
    expect(describeAdded(addPortFlags('vite --port $PORT --host ::1', 5000))).toBeUndefined();
  });

  it.each([
    'vite build', 'vite --mode production build', 'astro build', 'ng build', 'node server.js', 'next build', 'next lint', 'vite && echo done', 'vite | tee log', 'storybook build',
    'python3 app.py', 'python3 manage.py migrate', 'flask routes', 'python3 -m pytest', 'rails console', 'hugo', 'php -v', 'php -S -t public', 'jekyll build', 'python3 -c "print(1)"',
  ])(
    'leaves %s alone',
    (command) => {
      expect(addPortFlags(command, 5000)).toEqual({ command, added: '' });
    },
  );

  it('adds only the loopback flags to a command that sets the port to $PORT, {port} or the reserved port', () => {
    for (const command of ['vite --port $PORT', 'vite --port=${PORT}', 'vite --port {port}', 'vite --port 5000']) {
      expect(addPortFlags(command, 5000)).toEqual({ command: `${command} --host 127.0.0.1`, added: '--host 127.0.0.1', server: 'vite', reasons: ['loopback'] });
    }
    expect(addPortFlags('storybook dev -p $PORT', 5000).added).toBe('--host 127.0.0.1 --ci');
    expect(addPortFlags('python3 -m http.server $PORT', 5000).added).toBe('--bind 127.0.0.1');
    for (const command of [
      'vite --port $PORT --strictPort --host 127.0.0.1', 'python3 manage.py runserver 5000', 'next dev -p $PORT --hostname 127.0.0.1', 'php -S localhost:$PORT', 'gunicorn -b 127.0.0.1:$PORT app:app',
    ]) {
      const result = addPortFlags(command, 5000);
      expect(result).toMatchObject({ command, added: '' });
      expect(result.conflict).toBeUndefined();
    }
  });

  it('reports a port of its own as a conflict and changes nothing', () => {
    expect(addPortFlags('vite --port 3000', 5000)).toMatchObject({ command: 'vite --port 3000', added: '', conflict: '3000', server: 'vite' });
    expect(addPortFlags('storybook dev -p 6006', 5000)).toMatchObject({ added: '', conflict: '6006' });
    expect(addPortFlags('ng serve --port=4200', 5000)).toMatchObject({ added: '', conflict: '4200' });
    expect(addPortFlags('python3 -m http.server 8000', 5000)).toMatchObject({ added: '', conflict: '8000', server: 'http.server' });
    expect(addPortFlags('python3 manage.py runserver 0.0.0.0:8000', 5000)).toMatchObject({ added: '', conflict: '8000' });
    expect(addPortFlags('next dev -p 3000', 5000)).toMatchObject({ added: '', conflict: '3000', server: 'next' });
    expect(addPortFlags('php -S localhost:8080', 5000)).toMatchObject({ added: '', conflict: '8080' });
    expect(addPortFlags('rails s --port=3000', 5000)).toMatchObject({ added: '', conflict: '3000' });
  });

  it('keeps flags the command has already (no second --host, no second --strictPort)', () => {
    expect(addPortFlags('vite --host 0.0.0.0', 5000).command).toBe('vite --host 0.0.0.0 --port 5000 --strictPort');
    expect(addPortFlags('vite --strictPort', 5000).command).toBe('vite --strictPort --port 5000 --host 127.0.0.1');
    expect(addPortFlags('vite --strict-port', 5000).command).toBe('vite --strict-port --port 5000 --host 127.0.0.1');
    expect(addPortFlags('storybook dev --ci', 5000).command).toBe('storybook dev --ci --port 5000 --host 127.0.0.1');
    // Every spelling of a flag counts: -h is flask's --host, --hostname is next's -H, -b is http.server's --bind.
    expect(addPortFlags('flask run -h 0.0.0.0', 5000).added).toBe('--port 5000');
    expect(addPortFlags('next dev --hostname 0.0.0.0', 5000).added).toBe('');
    expect(addPortFlags('python3 -m http.server -b ::1', 5000).added).toBe('5000');
    expect(addPortFlags('rails s --binding=0.0.0.0', 5000).added).toBe('-p 5000');
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
    const py = withScripts({ dev: 'python3 manage.py runserver', web: 'next dev', docs: 'webpack serve' });
    expect(addPortFlags('npm run dev', 5000, py).command).toBe('npm run dev -- 127.0.0.1:5000');
    expect(addPortFlags('pnpm web', 5000, py).command).toBe('pnpm web -H 127.0.0.1');
    expect(addPortFlags('yarn docs', 5000, py).command).toBe(`yarn docs --port 5000 --host 127.0.0.1 ${WDS_SOCKET}`);
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

describe('detectDevServer', () => {
  it('knows how each server is kept on loopback (for doctor)', () => {
    expect(detectDevServer('next dev')?.loopbackHint).toMatch(/^-H 127\.0\.0\.1/);
    expect(detectDevServer('python3 manage.py runserver')?.loopbackHint).toBe('runserver 127.0.0.1:$PORT');
    expect(detectDevServer('node server.js')).toBeUndefined();
  });
});

describe('prepareCommand', () => {
  it('replaces {port} and adds flags', () => {
    expect(prepareCommand('python3 -m http.server {port}', 5000, dir).command).toBe('python3 -m http.server 5000 --bind 127.0.0.1');
    expect(prepareCommand('vite --port {port} --strictPort --host ::1', 5000, dir)).toMatchObject({ command: 'vite --port 5000 --strictPort --host ::1', added: '' });
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
