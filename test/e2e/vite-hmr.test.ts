import { describe, expect, it } from 'vitest';
import { launchBrowser, skipBrowser } from '../helpers/browser.js';
import { viteApp } from './vite-app.js';

/**
 * The whole promise on the most common dev server: `portbroker up` starts a real Vite (the one vitest brings
 * along), adds the port flags Vite needs, and Chromium loads it by name through the proxy, Vite's HMR
 * WebSocket included: an edit reaches the open page without a reload.
 */
describe.skipIf(skipBrowser)('a real Vite dev server behind portbroker', () => {
  it('serves http://web.<project>.localhost through the proxy and hot-updates the page over its WebSocket', async () => {
    const fx = await viteApp('e2e-vite');

    const up = fx.start(['up']);
    const out = await up.waitFor(/SERVICE\s+PORT/, 60_000);
    expect(out).toMatch(/web: vite ignores PORT, so portbroker added --port \d+ --strictPort --host 127\.0\.0\.1/);

    const browser = await launchBrowser();
    const page = await browser.newPage();
    const logs: string[] = [];
    page.on('console', (message) => logs.push(message.text()));
    const url = `http://web.e2e-vite.localhost:${fx.proxyPort}/`;
    expect((await page.goto(url))?.status()).toBe(200);
    await page.waitForFunction("document.getElementById('msg').textContent === 'first'");
    // Vite's client says so once its HMR WebSocket (to the page's own host: the proxy) is open.
    await expect.poll(() => logs.some((l) => l.includes('[vite] connected')), { timeout: 20_000 }).toBe(true);

    // An edit travels over that WebSocket: the page changes without navigating.
    await page.evaluate('window.marker = 42');
    fx.write('apps/web/main.js', "document.getElementById('msg').textContent = 'first edited';\nif (import.meta.hot) import.meta.hot.accept();\n");
    await page.waitForFunction("document.getElementById('msg').textContent === 'first edited'", undefined, { timeout: 20_000 });
    expect(await page.evaluate('window.marker')).toBe(42);
    expect(logs.some((l) => l.includes('[vite] hot updated'))).toBe(true);

    expect((await up.stop()).code).toBe(0);
  });
});
