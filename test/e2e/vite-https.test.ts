import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CHROMIUM, skipBrowser } from '../helpers/browser.js';
import { viteApp } from './vite-app.js';

/**
 * HTTPS as a browser sees it: `portbroker trust` puts the CA into an NSS database in a HOME made by the test
 * (Chromium on Linux reads ~/.pki/nssdb), `up --https` starts a real Vite, and Chromium loads it over HTTP/2 with
 * no certificate error, Vite's HMR WebSocket included.
 */
describe.skipIf(skipBrowser)('a real Vite dev server behind portbroker over HTTPS', () => {
  it('loads over h2 in Chromium that trusts the CA, and hot-updates the page', async () => {
    const fx = await viteApp('e2e-vite-https');
    const home = mkdtempSync(path.join(os.tmpdir(), 'pb-browser-home-'));
    const noSystemStore = mkdtempSync(path.join(os.tmpdir(), 'pb-no-store-'));
    onTestFinished(() => {
      rmSync(home, { recursive: true, force: true });
      rmSync(noSystemStore, { recursive: true, force: true });
    });
    const nssdb = path.join(home, '.pki', 'nssdb');
    mkdirSync(nssdb, { recursive: true });
    execFileSync('certutil', ['-N', '-d', `sql:${nssdb}`, '--empty-password']);

    // Only the test's NSS database is a store here: PORTBROKER_TRUST_ROOT points the system store at an empty folder.
    const trusted = await fx.run(['trust'], { env: { HOME: home, PORTBROKER_TRUST_ROOT: noSystemStore }, timeoutMs: 30_000 });
    expect(trusted.stdout).toMatch(/trusted by the NSS database/);

    const up = fx.start(['up', '--https']);
    const out = await up.waitFor(/SERVICE\s+PORT/, 60_000);
    expect(out).toContain(`https://web.e2e-vite-https.localhost:${fx.proxyPort}`);

    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
      env: { ...process.env, HOME: home },
    });
    onTestFinished(() => browser.close());
    const page = await browser.newPage();
    const logs: string[] = [];
    page.on('console', (message) => logs.push(message.text()));
    const url = `https://web.e2e-vite-https.localhost:${fx.proxyPort}/`;
    expect((await page.goto(url))?.status()).toBe(200);
    await page.waitForFunction("document.getElementById('msg').textContent === 'first'");
    expect(await page.evaluate('performance.getEntries()[0].nextHopProtocol')).toBe('h2');
    expect(await page.evaluate('window.isSecureContext && location.protocol')).toBe('https:');
    await expect.poll(() => logs.some((l) => l.includes('[vite] connected')), { timeout: 20_000 }).toBe(true);

    await page.evaluate('window.marker = 42');
    fx.write('apps/web/main.js', "document.getElementById('msg').textContent = 'first edited';\nif (import.meta.hot) import.meta.hot.accept();\n");
    await page.waitForFunction("document.getElementById('msg').textContent === 'first edited'", undefined, { timeout: 20_000 });
    expect(await page.evaluate('window.marker')).toBe(42);

    // Plain http:// on the same port lands on the https:// page.
    const redirected = await page.goto(`http://web.e2e-vite-https.localhost:${fx.proxyPort}/`);
    expect(redirected?.url()).toBe(url);

    expect((await up.stop()).code).toBe(0);
    // Five stages each with its own process (trust, up, Vite, the proxy with a new CA, Chromium): a whole minute
    // on a loaded 2-core machine; every wait inside is on a condition.
  }, 150_000);
});
