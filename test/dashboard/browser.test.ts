/// <reference lib="dom" />
import { appendFileSync, cpSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { launchBrowser, skipBrowser } from '../helpers/browser.js';
import { fixture, REPO, type Fixture } from '../helpers/cli.js';
import { proxyConnections, until } from '../proxy/helpers.js';

/**
 * The dashboard in Chromium while this repository's examples run under `portbroker up`: the services appear and
 * update without a reload (a crashed api comes back with a new pid, and its log shows it), the filter, the
 * log panel, a proxy restart survived, light and dark screenshots (saved under test/.artifacts, checked not
 * blank), and a phone-sized window without sideways scrolling.
 */

const ARTIFACTS = path.join(REPO, 'test', '.artifacts');

async function examples(): Promise<Fixture> {
  const fx = await fixture({ 'package.json': JSON.stringify({ name: 'examples', private: true, type: 'module' }) });
  cpSync(path.join(REPO, 'examples'), path.join(fx.root, 'examples'), { recursive: true });
  cpSync(path.join(REPO, 'portbroker.config.ts'), path.join(fx.root, 'portbroker.config.ts'));
  return fx;
}

const row = (key: string) => `tr[data-service="${key}"]`;
const cell = (page: Page, key: string, name: string) => page.textContent(`${row(key)} td.${name}`);

describe.skipIf(skipBrowser)('the dashboard in Chromium', () => {
  it('shows the examples live: state, pid, filter, logs, a crash, the restart button and a proxy restart; light and dark', async () => {
    const fx = await examples();
    const up = fx.start(['up']);
    await up.waitFor(/dashboard http:\/\/portbroker\.localhost/, 60_000);

    const browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    // Until the proxy is stopped on purpose (below), nothing the page asks for fails: a favicon.ico included.
    const failed: string[] = [];
    page.on('console', (message) => void (message.type() === 'error' && failed.push(message.text())));
    await page.goto(`http://localhost:${fx.proxyPort}/`);

    // Every service of the project, with the words of `ls`; the pid of a running one.
    await page.waitForSelector(`${row('examples/api')} td.state.running`);
    // Its own icon, inline: the browser asks for no /favicon.ico.
    expect(await page.getAttribute('link[rel="icon"]', 'href')).toMatch(/^data:image\/svg\+xml,/);
    expect(await cell(page, 'examples/web', 'state')).toBe('running');
    expect(await cell(page, 'examples/docs', 'state')).toBe('on-demand');
    expect(await cell(page, 'examples/debug', 'state')).toBe('reserved');
    expect(await page.getAttribute(`${row('examples/web')} td.url a`, 'href')).toBe(`http://web.examples.localhost:${fx.proxyPort}`);
    const pid = Number(await cell(page, 'examples/api', 'pid'));
    expect(pid).toBeGreaterThan(1);
    await page.waitForFunction((key) => /MiB|KiB/.test(document.querySelector(`tr[data-service="${key}"] td.memory`)?.textContent ?? ''), 'examples/api');

    // The filter.
    await page.fill('#filter', 'web');
    await page.waitForSelector(row('examples/api'), { state: 'detached' });
    expect(await page.$$eval('tr[data-service]', (rows) => rows.map((r) => r.getAttribute('data-service')))).toEqual(['examples/web']);
    await page.fill('#filter', '');
    await page.waitForSelector(row('examples/api'));

    // The log of api: its last lines, then new ones as they come.
    await page.click(`${row('examples/api')} td.service button`);
    await page.waitForFunction(() => document.getElementById('log-lines')!.textContent!.includes('api listening on'));

    // api crashes: the supervisor starts it again; the page shows the new pid, the log the new lines.
    process.kill(-pid, 'SIGKILL');
    await page.waitForFunction(
      ([key, old]) => {
        const text = document.querySelector(`tr[data-service="${key}"] td.pid`)?.textContent ?? '';
        return text !== '' && text !== String(old);
      },
      ['examples/api', pid] as const,
      { timeout: 30_000 },
    );
    await page.waitForFunction(() => (document.getElementById('log-lines')!.textContent!.match(/api listening on/g) ?? []).length >= 2, undefined, { timeout: 30_000 });
    await page.waitForSelector(`${row('examples/api')} td.state.running`, { timeout: 30_000 });

    // The restart button: a new process (its pid in the row), and the log follows along.
    const beforeRestart = Number(await cell(page, 'examples/api', 'pid'));
    const linesBefore = await page.evaluate(() => (document.getElementById('log-lines')!.textContent!.match(/api listening on/g) ?? []).length);
    await page.click(`${row('examples/api')} button[data-action="restart"]`);
    await page.waitForFunction((key) => /restarted|ready/.test(document.querySelector(`tr[data-service="${key}"] .result`)?.textContent ?? ''), 'examples/api', { timeout: 60_000 });
    await page.waitForFunction(
      ([key, old]) => {
        const text = document.querySelector(`tr[data-service="${key}"] td.pid`)?.textContent ?? '';
        return text !== '' && text !== String(old);
      },
      ['examples/api', beforeRestart] as const,
    );
    await page.waitForFunction((count) => (document.getElementById('log-lines')!.textContent!.match(/api listening on/g) ?? []).length > count, linesBefore);
    expect(await cell(page, 'examples/api', 'restarts')).not.toBe('');
    // The result shown in its row wraps there: the table does not grow wider than the window.
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);
    expect(failed).toEqual([]);

    // The proxy restarts (a new process): the page reconnects by itself and carries on.
    const proxyBefore = JSON.parse(readFileSync(path.join(fx.home, 'proxy.json'), 'utf8')).pid as number;
    expect((await fx.run(['proxy', 'stop'])).code).toBe(0);
    await page.waitForSelector('#connection.down');
    expect((await fx.run(['proxy', 'start'])).code).toBe(0);
    await page.waitForSelector('#connection.live', { timeout: 30_000 });
    await page.waitForFunction((old) => /proxy pid (\d+)/.exec(document.getElementById('proxy')!.textContent!)?.[1] !== String(old), proxyBefore);
    expect(await cell(page, 'examples/web', 'state')).toBe('running');
    await page.waitForFunction(() => document.getElementById('log-status')!.textContent!.startsWith('following'));

    // In a background tab the page streams nothing: its live view and its log stream close, and open again
    // (the whole state, the log's tail) when it is shown.
    const setVisibility = (state: 'hidden' | 'visible') =>
      page.evaluate((value) => {
        Object.defineProperty(document, 'visibilityState', { value, configurable: true });
        document.dispatchEvent(new Event('visibilitychange'));
      }, state);
    const streaming = (await proxyConnections(fx.proxyPort)).clients;
    await setVisibility('hidden');
    await page.waitForFunction(() => document.getElementById('connection')!.textContent === 'paused' && document.getElementById('log-status')!.textContent!.startsWith('paused'));
    await until(async () => (await proxyConnections(fx.proxyPort)).clients <= streaming - 2, 'the page\'s two streams to close');
    await setVisibility('visible');
    await page.waitForSelector('#connection.live');
    await page.waitForFunction(() => document.getElementById('log-status')!.textContent!.startsWith('following'));

    // Light and dark, saved for people to look at, and checked to hold a real picture.
    mkdirSync(ARTIFACTS, { recursive: true });
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      const file = path.join(ARTIFACTS, `dashboard-${scheme}.png`);
      const shot = await page.screenshot({ path: file, fullPage: true });
      const { colours, background } = await pictureStats(await browser.newPage(), shot);
      expect(colours, `${file} has only ${colours} colours`).toBeGreaterThan(50);
      expect(background === 'dark', `${file}: background`).toBe(scheme === 'dark');
    }

    // A phone-sized window: everything fits its width.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-phone.png'), fullPage: true });
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1)).toBe(true);

    // There a log opens below the table, out of sight: it is brought into view, and it follows the log's end even
    // where its lines wrap.
    await page.click('#log-close');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.click(`${row('examples/api')} td.service button`);
    await page.waitForFunction(() => document.getElementById('log-status')!.textContent!.startsWith('following'));
    const { file } = (await (await fetch(`http://127.0.0.1:${fx.proxyPort}/api/v1/services/examples/api/logs?n=0`)).json()) as { file: string };
    appendFileSync(file, Array.from({ length: 40 }, (_, i) => `${new Date().toISOString()} line ${i} long enough to wrap on a phone ${'x'.repeat(80)} end-${i}\n`).join(''));
    await page.waitForFunction(() => document.getElementById('log-lines')!.textContent!.includes('end-39'));
    // (It lies below the fold of this window: the page scrolled to show it.)
    expect(await page.evaluate(() => document.getElementById('log')!.getBoundingClientRect().top + window.scrollY > window.innerHeight)).toBe(true);
    await page.waitForFunction(() => {
      const box = document.getElementById('log-lines')!;
      const panel = document.getElementById('log')!.getBoundingClientRect();
      return box.scrollHeight > box.clientHeight && box.scrollHeight - box.scrollTop - box.clientHeight < 2 && panel.top < window.innerHeight && panel.bottom > 0;
    }, undefined, { timeout: 10_000 });
    expect(await page.textContent('#log-status')).toMatch(/^following/);

    expect(errors).toEqual([]);
    expect((await up.stop()).code).toBe(0);
  }, 180_000); // a crash, a restart and a proxy restart, each waited for, on a loaded 2-core machine
});

/** How many distinct colours a screenshot has, and whether its corner is dark, counted by the browser's canvas. */
async function pictureStats(probe: Page, png: Buffer): Promise<{ colours: number; background: 'dark' | 'light' }> {
  try {
    return await probe.evaluate(async (base64) => {
      const image = new Image();
      image.src = `data:image/png;base64,${base64}`;
      await image.decode();
      const canvas = document.createElement('canvas');
      canvas.width = image.width;
      canvas.height = image.height;
      const context = canvas.getContext('2d')!;
      context.drawImage(image, 0, 0);
      const data = context.getImageData(0, 0, image.width, image.height).data;
      const colours = new Set<number>();
      for (let i = 0; i < data.length; i += 4) colours.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
      const luminance = (data[0]! + data[1]! + data[2]!) / 3;
      return { colours: colours.size, background: luminance < 128 ? ('dark' as const) : ('light' as const) };
    }, png.toString('base64'));
  } finally {
    await probe.close();
  }
}
