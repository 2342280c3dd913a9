/// <reference lib="dom" />
import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { launchBrowser, skipBrowser } from '../helpers/browser.js';
import { fixture, REPO } from '../helpers/cli.js';
import { get, logFile, registerService } from '../proxy/helpers.js';

/**
 * The proxy daemon loads parts of itself late: the dashboard on its first request, the log reader thread on the
 * first follow, which may come days after it started. If portbroker was rebuilt or upgraded meanwhile, those files
 * are another build's: the proxy refuses to load them and says to restart, rather than pair two builds. Run on a
 * copy of the build, as an installed portbroker is, so the test can replace its files.
 */

/** A copy of the built package in a temp folder (its dependencies linked), removed after the test. */
function installedCopy(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pb-install-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(path.join(REPO, 'dist'), path.join(dir, 'dist'), { recursive: true });
  cpSync(path.join(REPO, 'package.json'), path.join(dir, 'package.json'));
  symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

/** The status of a follow request, and its first event once there is one (the stream is then closed). */
function followOnce(port: number, urlPath: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, headers: { host: `localhost:${port}` } }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => {
        text += d;
        const event = text.indexOf('event: lines');
        if (res.statusCode === 200 && event !== -1 && text.includes('\n\n', event)) {
          req.destroy();
          resolve({ status: 200, text });
        }
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.setTimeout(20_000, () => req.destroy(new Error(`no event from ${urlPath} within 20 s`)));
  });
}

describe('a proxy that outlived its build', () => {
  it('loads no part of another build (the dashboard, the log reader): 503 with what to do; restarted, it serves', async () => {
    const fx = await fixture();
    const install = installedCopy();
    const cli = (...args: string[]) => promisify(execFile)(process.execPath, [path.join(install, 'dist', 'cli', 'main.js'), ...args], { env: { ...process.env, ...fx.env } });
    /**
     * What a rebuild or an upgrade does under a running proxy, at the least: a new build id. (Every other file may
     * keep its bytes and times: npm packs fixed mtimes, pnpm hard-links files that did not change.)
     */
    let builds = 0;
    const rebuild = () => writeFileSync(path.join(install, 'dist', 'build-id'), `another build ${++builds}`);
    const dashboard = (urlPath: string) => get(fx.proxyPort, `localhost:${fx.proxyPort}`, { path: urlPath });
    await registerService(fx.home, { service: 'api', port: 61998 });
    const file = logFile(fx.home, 'acme', 'api');
    mkdirSync(path.dirname(file), { recursive: true });
    appendFileSync(file, 'one\ntwo\n');
    const follow = '/api/v1/services/acme/api/logs?n=5&follow=1';
    const restartHint = /rebuilt or upgraded since this proxy started \(pid \d+\): restart it \(portbroker proxy stop, then portbroker up or portbroker proxy start\)/;

    // Rebuilt before anyone opened the dashboard: the proxy does not load it.
    await cli('proxy', 'start');
    rebuild();
    const page = await dashboard('/api/v1/services');
    expect(page.status).toBe(503);
    expect(JSON.parse(page.body)).toMatchObject({ status: 503, error: 'restart-needed', message: expect.stringMatching(restartHint) });

    // Rebuilt after the dashboard loaded, before anyone followed a log: no log reader thread of the new build.
    await cli('proxy', 'stop');
    await cli('proxy', 'start');
    expect((await dashboard('/api/v1/services')).status).toBe(200);
    rebuild();
    const refused = await followOnce(fx.proxyPort, follow);
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.text)).toMatchObject({ status: 503, error: 'restart-needed', message: expect.stringMatching(restartHint) });
    // The page says so where the log would be (EventSource alone would neither retry nor say why).
    if (!skipBrowser) {
      const browser = await launchBrowser();
      const tab = await browser.newPage();
      await tab.goto(`http://localhost:${fx.proxyPort}/`);
      await tab.click('tr[data-service="acme/api"] td.service button');
      await tab.waitForFunction(() => document.getElementById('log-status')!.textContent!.startsWith('stopped · '));
      expect(await tab.textContent('#log-status')).toMatch(restartHint);
    }
    // What is already loaded serves on: the log, whole.
    const whole = await dashboard('/api/v1/services/acme/api/logs?n=5');
    expect((JSON.parse(whole.body) as { lines: Array<{ text: string }> }).lines.map((l) => l.text)).toEqual(['one', 'two']);

    // Restarted on the build now installed, it follows.
    await cli('proxy', 'stop');
    await cli('proxy', 'start');
    const followed = await followOnce(fx.proxyPort, follow);
    expect(followed.status).toBe(200);
    expect(followed.text).toContain('"text":"two"');
  });
});
