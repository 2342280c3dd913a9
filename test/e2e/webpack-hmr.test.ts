import { symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { launchBrowser, skipBrowser } from '../helpers/browser.js';
import { fixture, REPO } from '../helpers/cli.js';
import { serviceRecord } from '../runner/helpers.js';

/**
 * A real webpack-dev-server (a dev dependency) behind portbroker in Chromium. Its HMR client builds the
 * socket URL from the host and port it was started with, so the `--host 127.0.0.1 --port N` portbroker adds
 * would send the page's socket around the proxy, where webpack-dev-server refuses it as cross-origin ("Invalid
 * Host/Origin header"). With the client socket URL portbroker also adds, the socket goes through the proxy and
 * an edit reaches the open page without a reload.
 */
describe.skipIf(skipBrowser)('a real webpack-dev-server behind portbroker', () => {
  it('hot-updates the page over a WebSocket through the proxy, with no Invalid Host/Origin message', async () => {
    const fx = await fixture({
      'package.json': JSON.stringify({ name: 'e2e-webpack', private: true }),
      'portbroker.config.json': JSON.stringify({ services: { web: { command: 'webpack serve', cwd: 'apps/web' } } }),
      'apps/web/webpack.config.js': `module.exports = {
  mode: 'development',
  entry: './src/index.js',
  output: { filename: 'main.js', publicPath: '/' },
  infrastructureLogging: { level: 'info' },
  devServer: { hot: true, static: './public' },
  // webpack's persistent cache stays off: nothing is written to the repository's node_modules.
  cache: false,
};
`,
      'apps/web/public/index.html': '<!doctype html><title>webpack</title><h1 id="msg">loading</h1><script src="/main.js"></script>\n',
      // Self-accepting, so an edit is swapped in by HMR rather than by reloading the page.
      'apps/web/src/index.js': "document.getElementById('msg').textContent = 'first';\nif (module.hot) module.hot.accept();\n",
    });
    symlinkSync(path.join(REPO, 'node_modules'), path.join(fx.root, 'node_modules'));

    const up = fx.start(['up']);
    const out = await up.waitFor(/SERVICE\s+PORT/, 90_000);
    const port = serviceRecord(fx, 'web')!.port;
    expect(out).toContain(
      `web: webpack-dev-server ignores PORT, so portbroker added --port ${port} --host 127.0.0.1 --client-web-socket-url auto://0.0.0.0:0/ws`,
    );

    const browser = await launchBrowser();
    const page = await browser.newPage();
    const logs: string[] = [];
    page.on('console', (message) => logs.push(message.text()));
    const sockets: string[] = [];
    page.on('websocket', (ws) => sockets.push(ws.url()));
    const url = `http://web.e2e-webpack.localhost:${fx.proxyPort}/`;
    expect((await page.goto(url))?.status()).toBe(200);
    await page.waitForFunction("document.getElementById('msg').textContent === 'first'");
    // The client says so once its socket is open and accepted.
    await expect.poll(() => logs.some((l) => l.includes('[webpack-dev-server] Server started')), { timeout: 30_000 }).toBe(true);
    expect(sockets).toEqual([`ws://web.e2e-webpack.localhost:${fx.proxyPort}/ws`]);

    // An edit travels over that socket: the page changes without navigating.
    await page.evaluate('window.marker = 42');
    fx.write('apps/web/src/index.js', "document.getElementById('msg').textContent = 'first edited';\nif (module.hot) module.hot.accept();\n");
    await page.waitForFunction("document.getElementById('msg').textContent === 'first edited'", undefined, { timeout: 30_000 });
    expect(await page.evaluate('window.marker')).toBe(42);
    expect(logs.filter((l) => /Invalid Host|Invalid Origin|Invalid Host\/Origin/i.test(l))).toEqual([]);

    expect((await up.stop()).code).toBe(0);
  }, 120_000); // a first compile, or four servers booting, can take over a minute on a loaded 2-core machine
});
