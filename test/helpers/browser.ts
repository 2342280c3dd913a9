import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { onTestFinished } from 'vitest';

/** Debian's Chromium, installed by .ci/run; it resolves `*.localhost` to loopback by itself. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Whether browser tests must be skipped: only on a developer machine without Chromium, saying so. In CI (CI set,
 * as .ci/run does) a missing browser fails the test instead.
 */
export const skipBrowser = !existsSync(CHROMIUM) && !process.env.CI;
if (skipBrowser) console.warn(`skipping browser tests: no Chromium at ${CHROMIUM} (apt-get install chromium)`);

/** A headless Chromium closed when the test ends. */
export async function launchBrowser(): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
  onTestFinished(() => browser.close());
  return browser;
}
