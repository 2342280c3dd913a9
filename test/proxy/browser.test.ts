import { describe, expect, it, onTestFinished } from 'vitest';
import { launchBrowser, skipBrowser } from '../helpers/browser.js';
import { WebSocketServer } from 'ws';
import { fixture } from '../helpers/cli.js';
import { registerService, startProxy, startUpstream } from './helpers.js';

/**
 * A real browser through the proxy: Debian's Chromium (installed by .ci/run) resolves `*.localhost` to loopback
 * itself, loads a service's page by name, and opens a WebSocket back to it the way Vite's HMR client does.
 */

const PAGE = `<!doctype html><html><head><title>acme web</title></head><body>
<h1>Hello from web</h1><p id="ws">connecting</p>
<script>
  const socket = new WebSocket('ws://' + location.host + '/hmr');
  socket.onopen = () => socket.send('ping');
  socket.onmessage = (event) => { document.getElementById('ws').textContent = event.data; };
</script></body></html>`;

describe.skipIf(skipBrowser)('in Chromium', () => {
  it('loads http://web.<project>.localhost:<port>/ through the proxy, WebSocket included', async () => {
    const fx = await fixture();
    await startProxy(fx);
    const upstream = await startUpstream((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(PAGE.replace('Hello from web', `Hello from web via ${req.headers.host}`));
    });
    const wss = new WebSocketServer({ server: upstream.server });
    wss.on('connection', (socket) => socket.on('message', (data) => socket.send(`pong for ${data.toString()}`)));
    onTestFinished(() => void wss.close());
    await registerService(fx.home, { project: 'acme', service: 'web', port: upstream.port });

    const browser = await launchBrowser();
    const page = await browser.newPage();
    const response = await page.goto(`http://web.acme.localhost:${fx.proxyPort}/`);
    expect(response?.status()).toBe(200);
    expect(await page.textContent('h1')).toBe(`Hello from web via web.acme.localhost:${fx.proxyPort}`);
    await page.waitForFunction("document.getElementById('ws')?.textContent === 'pong for ping'");

    // The dashboard, in the same browser.
    await page.goto(`http://portbroker.localhost:${fx.proxyPort}/`);
    await page.waitForSelector(`a[href="http://web.acme.localhost:${fx.proxyPort}"]`);
  });
});
