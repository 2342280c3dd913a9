/// <reference lib="dom" />
import { statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { launchBrowser, skipBrowser } from '../helpers/browser.js';
import { fixture } from '../helpers/cli.js';
import { until } from '../proxy/helpers.js';
import { config } from '../runner/helpers.js';

/**
 * The log panel on a busy log, in Chromium: while following it holds only the newest lines (the server sends no
 * more), with the colours the service printed; scrolled up it pauses and shows the last 2,000 lines, every one,
 * and stays still while the log grows; back at the end it follows again; a search is the server's, over the
 * stream and the history alike.
 */

// 1,000 lines a second, each with a green "ok"; every 100th holds "needle".
const CHATTY = `
import http from 'node:http';
http.createServer((_req, res) => res.end('chatty')).listen(Number(process.env.PORT), process.env.HOST);
let n = 0;
setInterval(() => {
  let out = '';
  for (let i = 0; i < 10; i++, n++) out += 'line ' + n + (n % 100 === 0 ? ' needle' : '') + ' \\u001b[32mok\\u001b[0m\\n';
  process.stdout.write(out);
}, 10);
`;

const LINES = '#log-lines > div';

describe.skipIf(skipBrowser)('the log panel in Chromium', () => {
  it('follows a busy log with its newest lines in colour, pauses to show every line, and searches on the server', async () => {
    const fx = await fixture({
      'package.json': JSON.stringify({ name: 'panel' }),
      'chatty.mjs': CHATTY,
      'portbroker.config.json': config({ services: { chatty: { command: 'node chatty.mjs' } } }),
    });
    const up = fx.start(['up']);
    await up.waitFor(/dashboard http:\/\/portbroker\.localhost/, 60_000);
    const logFile = path.join(fx.home, 'logs', 'panel', 'chatty.log');
    await until(() => statSync(logFile, { throwIfNoEntry: false })?.size! > 200_000, 'over 2,000 lines in the log');

    const browser = await launchBrowser();
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(String(error)));
    await page.goto(`http://localhost:${fx.proxyPort}/`);
    await page.click('tr[data-service="panel/chatty"] td.service button');

    // Following: the newest lines only, however many the log gets; the status says lines were left out.
    await page.waitForFunction(() => /^following · \d+ lines · a busy log/.test(document.getElementById('log-status')!.textContent!));
    for (let i = 0; i < 3; i++) {
      const before = await page.textContent('#log-lines > div:last-child');
      await page.waitForFunction((last) => document.querySelector('#log-lines > div:last-child')?.textContent !== last, before);
      const count = await page.locator(LINES).count();
      expect(count).toBeGreaterThan(0);
      expect(count).toBeLessThanOrEqual(40);
    }
    // The service's colours, rendered: "ok" in green, as text in a span, never as markup.
    expect(await page.locator('#log-lines span.f32').first().textContent()).toBe('ok');
    expect(await page.textContent('#log-lines')).not.toContain('\u001b');

    // Scrolled up: paused, the last 2,000 lines, consecutive, and nothing moves while the log grows.
    await page.evaluate(() => (document.getElementById('log-lines')!.scrollTop = 0));
    await page.waitForFunction(() => /^paused at .* the last 2000 lines/.test(document.getElementById('log-status')!.textContent!));
    const numbers = await page.$$eval(LINES, (divs) => divs.map((d) => Number(/line (\d+)/.exec(d.textContent!)?.[1])));
    expect(numbers).toHaveLength(2000);
    expect(numbers.every((n, i) => i === 0 || n === numbers[i - 1]! + 1)).toBe(true);
    const grownFrom = statSync(logFile).size;
    await until(() => statSync(logFile).size > grownFrom + 50_000, 'the log to grow by 500 lines');
    expect(await page.textContent('#log-lines > div:last-child')).toContain(`line ${numbers.at(-1)}`);
    expect(await page.locator(LINES).count()).toBe(2000);

    // Back at the end: following again.
    await page.evaluate(() => {
      const box = document.getElementById('log-lines')!;
      box.scrollTop = box.scrollHeight;
    });
    await page.waitForFunction(() => /^following · \d+ lines/.test(document.getElementById('log-status')!.textContent!));
    await page.waitForFunction(() => document.querySelectorAll('#log-lines > div').length <= 40);

    // A search while following: only matching lines come, each of them (none is cut: there are 10 a second).
    await page.fill('#log-search', 'NEEDLE');
    await page.waitForFunction(() => {
      const lines = [...document.querySelectorAll('#log-lines > div')].map((d) => d.textContent!);
      return lines.length >= 5 && lines.every((text) => text.includes('needle'));
    });
    const first = await page.$$eval(LINES, (divs) => divs.map((d) => Number(/line (\d+)/.exec(d.textContent!)?.[1])));
    expect(first.every((n, i) => n % 100 === 0 && (i === 0 || n === first[i - 1]! + 100))).toBe(true);
    // Paused with the search: the history is the search's too.
    await page.uncheck('#log-follow');
    await page.waitForFunction(() => /^paused at /.test(document.getElementById('log-status')!.textContent!));
    const history = await page.$$eval(LINES, (divs) => divs.map((d) => d.textContent!));
    expect(history.length).toBeGreaterThanOrEqual(20);
    expect(history.every((text) => text.includes('needle'))).toBe(true);

    expect(errors).toEqual([]);
    expect((await up.stop()).code).toBe(0);
  }, 120_000);
});
