import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { fixture } from '../helpers/cli.js';

describe('git worktrees', () => {
  it('gives a linked worktree its branch label, its own ports and names', async () => {
    const fx = await fixture({}, { git: false });
    const git = (cwd: string, ...args: string[]) =>
      execFileSync('git', args, { cwd, stdio: 'pipe', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });
    git(fx.root, 'init', '-q', '-b', 'main');
    writeFileSync(path.join(fx.root, 'portbroker.config.json'), JSON.stringify({ name: 'acme', services: { web: {}, api: {} } }));
    git(fx.root, 'add', '.');
    git(fx.root, 'commit', '-qm', 'init');
    const parent = mkdtempSync(path.join(os.tmpdir(), 'pb-worktree-'));
    onTestFinished(() => rmSync(parent, { recursive: true, force: true }));
    const worktree = path.join(parent, 'login');
    git(fx.root, 'worktree', 'add', '-q', '-b', 'fix/Login', worktree);

    const main = JSON.parse((await fx.run(['url', 'web', '--json'])).stdout) as { url: string; port: number; label: string };
    const linked = JSON.parse((await fx.run(['url', 'web', '--json'], { cwd: worktree })).stdout) as { url: string; port: number; label: string };
    expect(main.url).toBe(`http://web.acme.localhost:${fx.proxyPort}`);
    expect(linked.label).toBe('fix-login');
    expect(linked.url).toBe(`http://web.fix-login.acme.localhost:${fx.proxyPort}`);
    expect(linked.port).not.toBe(main.port);
    // Each stays stable.
    expect(JSON.parse((await fx.run(['url', 'web', '--json'], { cwd: worktree })).stdout)).toEqual(linked);
    const env = JSON.parse((await fx.run(['env', 'web', '--json'], { cwd: worktree })).stdout) as Record<string, string>;
    expect(env.API_URL).toBe(`http://api.fix-login.acme.localhost:${fx.proxyPort}`);
  });
});
