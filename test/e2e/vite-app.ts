import { symlinkSync } from 'node:fs';
import path from 'node:path';
import { fixture, REPO, type Fixture } from '../helpers/cli.js';

/**
 * A one-page Vite app in a fixture monorepo, run with the Vite this repository installs: a self-accepting module,
 * so an edit is swapped in by HMR rather than a reload, and Vite's cache kept in the fixture. Each test file names
 * its own project: the name decides the preferred ports, which two files running at once would race for.
 */
export async function viteApp(project: string): Promise<Fixture> {
  const fx = await fixture({
    'package.json': JSON.stringify({ name: project, private: true, type: 'module' }),
    'portbroker.config.json': JSON.stringify({ services: { web: { command: 'vite', cwd: 'apps/web' } } }),
    'apps/web/index.html': '<!doctype html><title>vite</title><h1 id="msg">loading</h1><script type="module" src="/main.js"></script>\n',
    'apps/web/main.js': "document.getElementById('msg').textContent = 'first';\nif (import.meta.hot) import.meta.hot.accept();\n",
    'apps/web/vite.config.mjs': "export default { cacheDir: '.vite-cache', logLevel: 'info', clearScreen: false };\n",
  });
  symlinkSync(path.join(REPO, 'node_modules'), path.join(fx.root, 'node_modules'));
  return fx;
}
