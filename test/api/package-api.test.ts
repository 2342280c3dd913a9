import { mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, REPO } from '../helpers/cli.js';
import { alive, config, fixtureProcesses, SERVE } from '../runner/helpers.js';

/**
 * The programmatic API as a user's script sees it: `import … from 'portbroker'` resolved through
 * node_modules to the built package (its `exports`), driving up → restart → logs → down in one process.
 */

const SCRIPT = `
import * as api from 'portbroker';
const { up, restart, logs, ls, down } = api;
const session = await up([], { cwd: process.cwd() });
await session.ready;
const before = (await ls({ cwd: process.cwd() })).find((s) => s.service === 'api');
const [restarted] = await restart(['api'], { cwd: process.cwd() });
const lines = await logs(['api'], { cwd: process.cwd(), lines: 50 });
const downed = await down({ cwd: process.cwd() });
const status = await session.done;
console.log(JSON.stringify({ exports: Object.keys(api).sort(), before, restarted, lines, downed, status }));
`;

describe('the package API', () => {
  it('imported by name, drives up → restart → logs → down and exports only the contract', async () => {
    const fx = await fixture({
      'serve.mjs': SERVE,
      'drive.mjs': SCRIPT,
      'portbroker.config.json': config({ name: 'api-user', services: { api: { command: 'node serve.mjs' } } }),
    });
    mkdirSync(path.join(fx.root, 'node_modules'), { recursive: true });
    symlinkSync(REPO, path.join(fx.root, 'node_modules', 'portbroker'), 'dir');

    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['drive.mjs'], { cwd: fx.root, env: { ...process.env, ...fx.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as {
      exports: string[];
      before: { pid: number; port: number; supervisor: number };
      restarted: { service: string; state: string; pid: number; previousPid: number; port: number };
      lines: Array<{ service: string; text: string }>;
      downed: { supervisors: number[]; services: string[] };
      status: number;
    };
    expect(result.exports).toEqual(
      [
        'ConfigError', 'PortbrokerError', 'UsageError', 'alias', 'defineConfig', 'doctor', 'down', 'env', 'followLogs', 'loadConfig', 'logs', 'ls',
        'port', 'proxyStart', 'proxyStatus', 'proxyStop', 'release', 'restart', 'run', 'start', 'stop', 'trust', 'up', 'url', 'who',
      ].sort(),
    );
    expect(result.before.supervisor).toBe(child.pid);
    expect(result.restarted).toMatchObject({ service: 'api', state: 'running', previousPid: result.before.pid, port: result.before.port });
    expect(result.restarted.pid).not.toBe(result.before.pid);
    expect(alive(result.before.pid)).toBe(false);
    expect(result.lines.filter((l) => l.text === 'api listening on ' + result.before.port)).toHaveLength(2);
    expect(result.downed).toMatchObject({ supervisors: [child.pid], services: ['api'] });
    expect(result.status).toBe(0);
    expect(fixtureProcesses(fx)).toEqual([]);
  });
});
