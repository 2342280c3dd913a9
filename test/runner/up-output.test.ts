import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, fixture } from '../helpers/cli.js';
import { config, readRegistry, until } from './helpers.js';

/** Prints a coloured line and what it knows about colour, then keeps running. */
const COLOURFUL = `
import http from 'node:http';
console.log('\\u001b[31mred\\u001b[0m plain');
console.log('colour env: NO_COLOR=' + (process.env.NO_COLOR ?? '-') + ' FORCE_COLOR=' + (process.env.FORCE_COLOR ?? '-'));
http.createServer((q, r) => r.end('x')).listen(Number(process.env.PORT), process.env.HOST);
process.on('SIGTERM', () => process.exit(0));
`;

const ESC = '\u001b';

async function colourFixture() {
  return fixture({
    'app.mjs': COLOURFUL,
    'portbroker.config.json': config({ name: 'rt-paint', services: { app: { command: 'node app.mjs' }, other: { command: 'node app.mjs' } } }),
  });
}

describe('portbroker up: output', () => {
  it('prints no escape codes when not on a TTY, its services’ own included', async () => {
    const fx = await colourFixture();
    // Neither NO_COLOR nor FORCE_COLOR: a pipe alone means no colour.
    const up = fx.start(['up'], { env: { NO_COLOR: undefined } });
    await up.waitFor(/SERVICE\s+PORT/);
    await up.waitFor(/other\s+│ colour env/);
    const { stdout, stderr } = await up.stop();
    expect(stdout + stderr).not.toContain(ESC);
    expect(stdout).toMatch(/^app\s+│ red plain$/m);
    expect(stdout).toMatch(/^app\s+│ colour env: NO_COLOR=- FORCE_COLOR=-$/m);
    // Plain progress lines instead of a spinner.
    expect(stderr).toMatch(/› app starting\n/);
  });

  it('honours NO_COLOR, even over FORCE_COLOR, and passes it on', async () => {
    const fx = await colourFixture();
    const up = fx.start(['up'], { env: { NO_COLOR: '1', FORCE_COLOR: '1' } });
    await up.waitFor(/SERVICE\s+PORT/);
    await up.waitFor(/other\s+│ colour env/);
    const { stdout, stderr } = await up.stop();
    expect(stdout + stderr).not.toContain(ESC);
    expect(stdout).toMatch(/app\s+│ colour env: NO_COLOR=1/);
  });

  it('colours prefixes and keeps services’ colours with FORCE_COLOR', async () => {
    const fx = await colourFixture();
    const up = fx.start(['up'], { env: { NO_COLOR: undefined, FORCE_COLOR: '1' } });
    await up.waitFor(/SERVICE/);
    await up.waitFor(/colour env/);
    const { stdout } = await up.stop();
    expect(stdout).toContain(`${ESC}[31mred${ESC}[0m plain`);
    // Two services, two different colours for their prefixes.
    const colours = [...stdout.matchAll(/\u001b\[(\d+)m(app|other)\s*│/g)].map((m) => `${m[2]}:${m[1]}`);
    expect(new Set(colours).size).toBe(2);
  });

  it('shows a spinner and colours on a TTY', async () => {
    const fx = await colourFixture();
    // `script` gives the CLI a pseudo-terminal. Should the test fail, the fixture's cleanup ends the `up`
    // inside it (its pid is in the registry).
    const script = spawn('script', ['-qfec', `${process.execPath} ${CLI} up`, '/dev/null'], {
      cwd: fx.root,
      env: { ...process.env, ...fx.env, NO_COLOR: undefined, FORCE_COLOR: undefined, TERM: 'xterm' } as NodeJS.ProcessEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let output = '';
    script.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    try {
      await until(() => /SERVICE/.test(output) && /colour env/.test(output), 'the table on the terminal');
      const owner = Object.values(readRegistry(fx).checkouts)[0]!.ownerPid!;
      process.kill(owner, 'SIGINT');
      await new Promise((resolve) => script.on('close', resolve));
    } finally {
      script.kill('SIGKILL');
    }
    expect(output).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] (app|other) starting/);
    expect(output).toContain(`${ESC}[31mred${ESC}[0m plain`);
    expect(output).toMatch(/colour env: NO_COLOR=- FORCE_COLOR=1/);
  });

  it('prefixes lines with the time with --timestamps, and keeps a log file per service', async () => {
    const fx = await colourFixture();
    const up = fx.start(['up', '--timestamps']);
    await up.waitFor(/SERVICE/);
    await up.waitFor(/other\s+│ colour env/);
    const { stdout } = await up.stop();
    expect(stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{3} app\s+│ red plain$/m);
    const log = readFileSync(path.join(fx.home, 'logs', 'rt-paint', 'app.log'), 'utf8');
    // Each line after the time it was read (`logs --since`, `--timestamps`), with the colours the service printed
    // (the dashboard renders them) although this terminal shows none.
    const T = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';
    expect(log).toMatch(new RegExp(`^${T} \\[portbroker\\] started \\(pid \\d+\\): node app\\.mjs$`, 'm'));
    expect(log).toMatch(new RegExp(`^${T} \u001b\\[31mred\u001b\\[0m plain$`, 'm'));
    expect(log).toMatch(new RegExp(`^${T} \\[portbroker\\] stopped$`, 'm'));
  });
});
