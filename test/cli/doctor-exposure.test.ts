import { chmodSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/cli.js';
import { serviceRecord } from '../runner/helpers.js';

interface Check {
  id: string;
  status: 'ok' | 'warn' | 'fail';
  message: string;
  fix?: string;
}

/**
 * Listens on $PORT at the address given as its first argument, and, like a dev server's HMR socket, on a
 * second port (its second argument, 0 for any) on every IPv6 interface; prints both ports.
 */
const SERVER = `#!/usr/bin/env node
const net = require('node:net');
// Readiness probes and doctor's connections may reset: that must not end the server.
const serve = (s) => { s.on('error', () => {}); s.end('hi'); };
const [host = '127.0.0.1', extra] = process.argv.slice(2).filter((a) => !a.startsWith('-') && a !== 'dev');
const main = net.createServer(serve).listen(Number(process.env.PORT), host, () => {
  if (extra === undefined) return console.log('listening on ' + process.env.PORT);
  const hmr = net.createServer(serve).listen(Number(extra), '::', () => console.log('listening on ' + process.env.PORT + ' and ' + hmr.address().port));
});
process.on('SIGTERM', () => process.exit(0));
`;

const exposure = async (run: () => Promise<{ stdout: string; code: number | null }>) => {
  const result = await run();
  return { code: result.code, check: (JSON.parse(result.stdout) as Check[]).find((c) => c.id === 'exposed-services')! };
};

describe('doctor: services reachable from the network', () => {
  it('checks every socket of each service process tree, not only its port, and gives the tool its own flag', async () => {
    const fx = await fixture({
      'package.json': JSON.stringify({ name: 'expo', private: true }),
      'portbroker.config.json': JSON.stringify({
        services: {
          // Binds every interface on purpose (loopback reaches it too, so it starts and is ready).
          web: { command: 'next dev --hostname 0.0.0.0 0' },
          safe: { command: 'node server.js 127.0.0.1' },
        },
      }),
      'server.js': SERVER,
    });
    chmodSync(fx.write('node_modules/.bin/next', SERVER), 0o755);
    const up = fx.start(['up']);
    const out = await up.waitFor(/SERVICE\s+PORT/, 40_000);
    const hmr = Number(/web\s+│ listening on \d+ and (\d+)/.exec(await up.waitFor(/listening on \d+ and \d+/))![1]);
    const web = serviceRecord(fx, 'web')!;
    expect(out).not.toMatch(/web: .*added/); // --hostname is next's -H: nothing to add

    const { code, check } = await exposure(() => fx.run(['doctor', '--json']));
    expect(code).toBe(1);
    expect(check).toMatchObject({ status: 'fail' });
    expect(check.message).toContain(`web on 0.0.0.0:${web.port}`);
    expect(check.message).toContain(`web on [::]:${hmr}`);
    expect(check.message).not.toContain('safe');
    expect(check.fix).toContain('make web listen on 127.0.0.1: next takes -H 127.0.0.1');
    expect(check.fix).not.toContain('--host ');
    expect((await up.stop()).code).toBe(0);

    // Stopped, nothing is exposed any more.
    expect((await exposure(() => fx.run(['doctor', '--json']))).check).toMatchObject({ status: 'ok' });
  });

  it('checks the services of `portbroker run` outside any config folder', async () => {
    const fx = await fixture({ 'server.js': SERVER }, { git: false });
    const run = fx.start(['run', 'api', '--', 'node', 'server.js', '0.0.0.0']);
    await run.waitFor(/api is ready/, 40_000);
    const { port } = serviceRecord(fx, 'api')!;

    const { code, check } = await exposure(() => fx.run(['doctor', '--json']));
    expect(check).toMatchObject({ status: 'fail' });
    expect(code).toBe(1);
    expect(check.message).toContain(`api on 0.0.0.0:${port}`);
    expect(check.fix).toContain('make api listen on 127.0.0.1 only');
    expect((await run.stop()).code).toBe(0);
  });
});
