// Headless Chromium driven over the DevTools protocol on a pipe, with no domain enabled: a page load costs the
// browser what it costs a user's browser, and nothing for the measuring. Playwright enables Network, Page and
// Runtime on every page it knows of, so each of a page's 1,000 requests also becomes protocol events serialised
// to Node: that cost the browser ~25% more CPU per load here (and the load ~15% more time) on every path alike,
// which both slowed the loads and pulled their ratios toward 1.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'];

/**
 * Starts `executable` with its own temp profile. `load(url, expression)` opens `url` in a fresh browser context
 * (nothing cached or stored from an earlier load) and polls `expression` until it yields a non-null value, which
 * it returns; the context is then thrown away. `close()` ends the browser and removes its profile.
 */
export async function launchChromium(executable, { env = process.env } = {}) {
  const profile = mkdtempSync(path.join(os.tmpdir(), 'pb-bench-chromium-'));
  // Its own process group: a kill of the group takes the renderers and helpers along.
  const child = spawn(executable, [...FLAGS, `--user-data-dir=${profile}`, '--remote-debugging-pipe', '--no-startup-window'], {
    stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'],
    env,
    detached: true,
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const kill = () => {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    rmSync(profile, { recursive: true, force: true });
  };
  const [, , , toBrowser, fromBrowser] = child.stdio;
  const waiting = new Map();
  let lastId = 0;
  let pending = '';
  fromBrowser.on('data', (chunk) => {
    pending += chunk;
    for (let end = pending.indexOf('\0'); end >= 0; end = pending.indexOf('\0')) {
      const message = JSON.parse(pending.slice(0, end));
      pending = pending.slice(end + 1);
      const caller = waiting.get(message.id);
      if (!caller) continue; // an event: none is asked for, but the browser sends a few (targets)
      waiting.delete(message.id);
      if (message.error) caller.reject(new Error(`${caller.method}: ${message.error.message}`));
      else caller.resolve(message.result);
    }
  });
  exited.then(() => {
    for (const caller of waiting.values()) caller.reject(new Error(`${caller.method}: the browser exited`));
  });
  const send = (method, params = {}, sessionId) =>
    new Promise((resolve, reject) => {
      const id = ++lastId;
      waiting.set(id, { method, resolve, reject });
      toBrowser.write(`${JSON.stringify({ id, method, params, ...(sessionId && { sessionId }) })}\0`);
    });
  try {
    await send('Browser.getVersion');
  } catch (error) {
    kill();
    throw error;
  }

  return {
    pid: child.pid,
    kill,
    async load(url, expression, { timeoutMs = 120_000 } = {}) {
      const { browserContextId } = await send('Target.createBrowserContext');
      try {
        const { targetId } = await send('Target.createTarget', { url: 'about:blank', browserContextId });
        const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
        const { errorText } = await send('Page.navigate', { url }, sessionId);
        if (errorText) throw new Error(`${url}: ${errorText}`);
        // The page keeps its own clock (performance.now() from navigation start): polling adds nothing to it.
        for (const until = Date.now() + timeoutMs; Date.now() < until; await sleep(100)) {
          // Before the new document commits the expression may meet the old one, or a context being replaced.
          const reply = await send('Runtime.evaluate', { expression, returnByValue: true }, sessionId).catch(() => undefined);
          const value = reply?.result?.value;
          if (value !== undefined && value !== null) return value;
        }
        throw new Error(`${url}: ${expression} gave nothing within ${timeoutMs} ms`);
      } finally {
        await send('Target.disposeBrowserContext', { browserContextId });
      }
    },
    /**
     * Opens `url` in a fresh context and leaves it open: `evaluate(expression)` runs in the page (its value, or
     * undefined before the document is there), `close()` throws the context away.
     */
    async open(url) {
      const { browserContextId } = await send('Target.createBrowserContext');
      const { targetId } = await send('Target.createTarget', { url: 'about:blank', browserContextId });
      const { sessionId } = await send('Target.attachToTarget', { targetId, flatten: true });
      const { errorText } = await send('Page.navigate', { url }, sessionId);
      if (errorText) throw new Error(`${url}: ${errorText}`);
      return {
        evaluate: async (expression) =>
          (await send('Runtime.evaluate', { expression, returnByValue: true }, sessionId).catch(() => undefined))?.result?.value,
        close: () => send('Target.disposeBrowserContext', { browserContextId }),
      };
    },
    async close() {
      await send('Browser.close').catch(() => undefined);
      await Promise.race([exited, sleep(10_000)]);
      kill();
    },
  };
}
