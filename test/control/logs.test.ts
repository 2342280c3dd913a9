import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/cli.js';
import { config, get, serviceRecord } from '../runner/helpers.js';

/**
 * `portbroker logs` reads the log files a real `up` wrote: tails, --since, --json, --timestamps, and -f
 * following new lines across the runner's rotation of a file past 1 MB.
 */

/** Prints what it is asked to: `/say?<text>` one line, `/burst` ~1.2 MB of lines (the log file rotates). */
const CHATTY = `
import http from 'node:http';
http.createServer((req, res) => {
  const [path, query = ''] = req.url.split('?');
  if (path === '/say') console.log(decodeURIComponent(query));
  if (path === '/burst') for (let i = 0; i < 12000; i++) console.log('burst ' + String(i).padStart(5, '0') + ' ' + 'x'.repeat(90));
  res.end('ok');
}).listen(Number(process.env.PORT), '127.0.0.1', () => console.log(process.env.PORTBROKER_SERVICE + ' up'));
`;

const project = config({ name: 'lg', services: { api: { command: 'node chatty.mjs' }, web: { command: 'node chatty.mjs' } } });

describe('portbroker logs', () => {
  it('tails, -n, --since, --json and --timestamps from the log files, after the up ended', async () => {
    const fx = await fixture({ 'chatty.mjs': CHATTY, 'portbroker.config.json': project });
    const up = fx.start(['up']);
    await up.waitFor(/SERVICE\s+PORT/);
    for (const word of ['one', 'two', 'three']) await get(serviceRecord(fx, 'api')!.port, `/say?${word}`);
    await get(serviceRecord(fx, 'web')!.port, '/say?from-web');
    await up.waitFor(/web\s+│ from-web/);
    expect((await up.stop()).code).toBe(0);

    const all = await fx.run(['logs']);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/api +│ one\napi +│ two\napi +│ three\n/);
    expect(all.stdout).toMatch(/web +│ from-web/);
    expect(all.stdout).toMatch(/api +│ \[portbroker\] started \(pid \d+\): node chatty\.mjs/);
    // What the supervisor itself said is its own stream.
    expect(all.stdout).toMatch(/portbroker │ stopping web, api/);

    const two = await fx.run(['logs', 'api', '-n', '2']);
    expect(two.stdout).toMatch(/^api +│ three\napi +│ \[portbroker\] stopped\n$/);

    const json = await fx.run(['logs', 'api', '--json', '--since', '1h']);
    const lines = JSON.parse(json.stdout) as Array<{ service: string; time: string; text: string }>;
    expect(lines.map((l) => l.text)).toEqual(expect.arrayContaining(['one', 'two', 'three']));
    expect(lines.every((l) => l.service === 'api' && !Number.isNaN(Date.parse(l.time)))).toBe(true);
    const future = await fx.run(['logs', '--since', new Date(Date.now() + 60_000).toISOString()]);
    expect(future).toMatchObject({ code: 0, stdout: '' });

    const stamped = await fx.run(['logs', 'api', '-n', '1', '--timestamps']);
    expect(stamped.stdout).toMatch(/^\d\d:\d\d:\d\d\.\d{3} api +│ \[portbroker\] stopped\n$/);

    expect(await fx.run(['logs', '--since', 'yesterday'])).toMatchObject({ code: 2 });
    const unknown = await fx.run(['logs', 'wbe']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('(did you mean "web"?)');
  });

  it('-f prints new lines of every named service as they come, and survives a rotation', async () => {
    const fx = await fixture({ 'chatty.mjs': CHATTY, 'portbroker.config.json': project });
    const up = fx.start(['up']);
    await up.waitFor(/SERVICE\s+PORT/);
    const api = serviceRecord(fx, 'api')!.port;
    const web = serviceRecord(fx, 'web')!.port;
    const follow = fx.start(['logs', '-f', 'api', 'web', '-n', '0']);
    // Following has begun once an earlier line is not printed and a new one is: poll until it shows.
    await get(api, '/say?hello');
    for (let i = 0; !/api +│ hello/.test(follow.stdout); i++) {
      if (i > 100) throw new Error(`no line followed:\n${follow.stdout}${follow.stderr}`);
      await get(api, '/say?hello');
      await new Promise((r) => setTimeout(r, 100));
    }
    await get(web, '/say?web-line');
    await follow.waitFor(/web +│ web-line/);
    await get(api, '/burst');
    await follow.waitFor(/api +│ burst 11999/, 60_000);
    await get(api, '/say?after-rotation');
    await follow.waitFor(/api +│ after-rotation/);
    expect(follow.stdout.match(/api +│ burst \d+/g)).toHaveLength(12000);
    expect((await follow.stop()).code).toBe(0);
    expect((await up.stop()).code).toBe(0);
  });
});
