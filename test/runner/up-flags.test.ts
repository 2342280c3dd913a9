import { chmodSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/cli.js';
import { config, get, serviceRecord } from './helpers.js';

/** Stands in for a dev server that ignores PORT: prints its arguments and serves on --port at --host. */
const FAKE_DEV_SERVER = `#!/usr/bin/env node
const path = require('node:path');
const args = process.argv.slice(2);
console.log(path.basename(process.argv[1]) + ' argv: ' + JSON.stringify(args));
const at = (flag) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
require('node:http').createServer((q, r) => r.end('dev server')).listen(Number(at('--port')), at('--host') ?? 'localhost', () => console.log('serving'));
process.on('SIGTERM', () => process.exit(0));
`;

/** pnpm without pnpm: \`pnpm exec <bin> …\` runs the project's bin, as pnpm would. */
const FAKE_PNPM = `#!/bin/sh
[ "$1" = exec ] && shift
PATH="$PWD/node_modules/.bin:$PATH" exec "$@"
`;

describe('portbroker up: port flags for dev servers that ignore PORT', () => {
  it('adds --port (and --strictPort/--host) to vite, npx vite and pnpm exec astro dev; leaves a command with --port alone', async () => {
    const fx = await fixture({
      'package.json': '{"name": "rt-flags", "private": true}',
      'portbroker.config.json': config({
        services: {
          plain: { command: 'vite' },
          npx: { command: 'npx vite' },
          astro: { command: 'pnpm exec astro dev' },
          own: { command: 'vite --port $PORT --host 127.0.0.1' },
          bind: { command: 'vite --port $PORT' },
          clash: { command: 'vite --port 0', ready: { log: 'serving' } },
        },
      }),
    });
    for (const bin of ['vite', 'astro']) chmodSync(fx.write(`node_modules/.bin/${bin}`, FAKE_DEV_SERVER), 0o755);
    chmodSync(fx.write('bin/pnpm', FAKE_PNPM), 0o755);

    // This repository's own node_modules/.bin (vitest puts it on PATH) holds a real vite: keep it out.
    const PATH = [path.join(fx.root, 'bin'), ...process.env.PATH!.split(':').filter((p) => !p.includes('node_modules'))].join(':');
    const up = fx.start(['up'], { env: { PATH, npm_config_offline: 'true', npm_config_update_notifier: 'false' } });
    const out = await up.waitFor(/SERVICE\s+PORT/, 40_000);
    const port = (s: string) => serviceRecord(fx, s)!.port;
    const argv = (s: string) => JSON.parse(new RegExp(`${s}\\s+│ \\w+ argv: (.*)`).exec(out)![1]!) as string[];

    expect(argv('plain')).toEqual(['--port', String(port('plain')), '--strictPort', '--host', '127.0.0.1']);
    expect(argv('npx')).toEqual(['--port', String(port('npx')), '--strictPort', '--host', '127.0.0.1']);
    expect(argv('astro')).toEqual(['dev', '--port', String(port('astro')), '--host', '127.0.0.1']);
    expect(argv('own')).toEqual(['--port', String(port('own')), '--host', '127.0.0.1']);
    expect(argv('bind')).toEqual(['--port', String(port('bind')), '--host', '127.0.0.1']);
    expect(argv('clash')).toEqual(['--port', '0']);

    // Said once per service, in words.
    expect(out.match(/plain: vite ignores PORT, so portbroker added --port \d+ --strictPort --host 127\.0\.0\.1/g)).toHaveLength(1);
    expect(out).toMatch(/astro: astro ignores PORT, so portbroker added --port \d+ --host 127\.0\.0\.1/);
    expect(out).not.toMatch(/own: .*added/);
    expect(out).toMatch(/bind: portbroker added --host 127\.0\.0\.1 so vite listens on loopback only/);
    expect(out).toMatch(new RegExp(`clash: its command sets port 0, but portbroker reserved ${port('clash')} for it`));

    for (const s of ['plain', 'npx', 'astro', 'own', 'bind']) expect((await get(port(s), '/')).body).toBe('dev server');
    expect((await up.stop()).code).toBe(0);
  });
});
