import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { freePort, killRecorded, REPO } from '../helpers/cli.js';
import { get } from '../runner/helpers.js';

/**
 * portbroker installed the way a user adds it to their own repo: `npm pack`, then `npm i -D ./portbroker-x.y.z.tgz`
 * in another repository, then `npx portbroker up`. The install resolves dependencies from npm's cache first
 * (`--prefer-offline`: a machine that ran `npm ci` here has them all).
 */
describe('installed from a packed tarball into another repo', () => {
  it('npm i -D ./portbroker-x.y.z.tgz && npx portbroker up serves the repo, and hints say npx portbroker', { timeout: 300_000 }, async () => {
    const work = mkdtempSync(path.join(os.tmpdir(), 'pb-pack-'));
    const home = path.join(work, 'home');
    const proxyPort = await freePort();
    onTestFinished(() => {
      killRecorded(home);
      rmSync(work, { recursive: true, force: true });
    });
    // dist/ is built by `npm test` before the tests; prepare would build it again.
    execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', work], { cwd: REPO, stdio: 'pipe' });
    const tarball = readdirSync(work).find((f) => /^portbroker-\d+\.\d+\.\d+.*\.tgz$/.test(f));
    expect(tarball).toBeDefined();

    const app = path.join(work, 'app');
    mkdirSync(path.join(app, '.git'), { recursive: true });
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'myapp', private: true }));
    writeFileSync(
      path.join(app, 'server.mjs'),
      `import http from 'node:http';\nhttp.createServer((q, r) => r.end('hello from ' + process.env.PORTBROKER_SERVICE)).listen(Number(process.env.PORT), process.env.HOST);\n`,
    );
    // A TypeScript config importing from the installed package, as README shows.
    writeFileSync(
      path.join(app, 'portbroker.config.ts'),
      `import { defineConfig } from 'portbroker';\nexport default defineConfig({ services: { web: { command: 'node server.mjs' } } });\n`,
    );
    execFileSync('npm', ['i', '-D', `../${tarball}`, '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app, stdio: 'pipe' });

    const env = { ...process.env, PORTBROKER_HOME: home, PORTBROKER_PROXY_PORT: String(proxyPort), NO_COLOR: '1' };
    const up = spawn('npx', ['portbroker', 'up'], { cwd: app, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    onTestFinished(() => {
      try {
        process.kill(-up.pid!, 'SIGKILL');
      } catch {
        // ended
      }
    });
    let output = '';
    up.stdout!.on('data', (d: Buffer) => (output += d));
    up.stderr!.on('data', (d: Buffer) => (output += d));
    const deadline = Date.now() + 120_000;
    while (!/web\s+\d+\s+http:\/\/web\.myapp\.localhost/.test(output) && up.exitCode === null && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(output).toMatch(new RegExp(`web\\s+\\d+\\s+http://web\\.myapp\\.localhost:${proxyPort}\\s+running`));
    expect(await get(proxyPort, '/', `web.myapp.localhost:${proxyPort}`)).toEqual({ status: 200, body: 'hello from web' });

    // Hints name the command that works here: the binary in node_modules, through npx or called directly.
    const empty = path.join(work, 'empty');
    mkdirSync(path.join(empty, '.git'), { recursive: true });
    writeFileSync(path.join(empty, 'package.json'), JSON.stringify({ name: 'empty' }));
    const bin = path.join(app, 'node_modules', '.bin', 'portbroker');
    let stderr = '';
    try {
      execFileSync(bin, ['init'], { cwd: empty, env: { ...env, npm_command: '' }, encoding: 'utf8', stdio: 'pipe' });
    } catch (error) {
      stderr = (error as { stderr: string }).stderr;
    }
    expect(stderr).toContain('or give one command a port and a URL without a config: npx portbroker run web -- <command>');

    process.kill(-up.pid!, 'SIGTERM');
    await new Promise((resolve) => (up.exitCode !== null ? resolve(undefined) : up.once('close', resolve)));
  });
});
