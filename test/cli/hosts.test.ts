import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CLI, fixture } from '../helpers/cli.js';

/**
 * The hosts-file block, always on a hosts file of the test's own (PORTBROKER_HOSTS_FILE); the machine's
 * /etc/hosts is replaced only inside a private mount namespace.
 */
const ORIGINAL = '127.0.0.1\tlocalhost\n# my own line\n::1 ip6-localhost ip6-loopback\n10.0.0.5 build-server\n';

const CONFIG = {
  'portbroker.config.json': JSON.stringify({
    name: 'acme',
    services: { web: { hostnames: ['app'] }, api: {}, db: { proxy: false } },
  }),
};

function hostsFile(content = ORIGINAL): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pb-hosts-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  const file = path.join(dir, 'hosts');
  writeFileSync(file, content, { mode: 0o644 });
  return file;
}

describe('portbroker hosts', () => {
  it('sync writes a marked block of 127.0.0.1 and ::1 lines for every route, touching nothing else; clean removes it', async () => {
    const fx = await fixture(CONFIG);
    const file = hostsFile();
    const env = { PORTBROKER_HOSTS_FILE: file };
    expect((await fx.run(['alias', 'docker-api', '8081'], { env })).code).toBe(0);
    expect((await fx.run(['ls'], { env })).code).toBe(0);

    const sync = await fx.run(['hosts', 'sync'], { env });
    expect(sync.code, sync.stderr).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text.startsWith(ORIGINAL)).toBe(true);
    const names = ['api.acme.localhost', 'api.localhost', 'app.localhost', 'docker-api.localhost', 'portbroker.localhost', 'web.acme.localhost', 'web.localhost'];
    for (const name of names) {
      expect(text).toContain(`\n127.0.0.1 ${name}\n`);
      expect(text).toContain(`\n::1 ${name}\n`);
    }
    expect(text).not.toContain('db.');
    expect(text).toMatch(/# >>> portbroker[^\n]*\n(?:(?:127\.0\.0\.1|::1) \S+\n)+# <<< portbroker\n$/);
    expect(statSync(file).mode & 0o777).toBe(0o644);

    // Idempotent; a line the user adds after the block stays where it is.
    expect((await fx.run(['hosts', 'sync'], { env })).stdout).toContain('already up to date');
    writeFileSync(file, `${readFileSync(file, 'utf8')}192.168.1.9 nas\n`);
    const status = JSON.parse((await fx.run(['hosts', 'status', '--json'], { env })).stdout) as { hosts: string[]; missing: string[]; file: string };
    expect(status).toMatchObject({ file, hosts: names, missing: [] });
    await fx.run(['release', 'api'], { env });
    expect((await fx.run(['hosts', 'sync'], { env })).code).toBe(0);
    expect(readFileSync(file, 'utf8')).not.toContain('api.acme.localhost');
    expect(readFileSync(file, 'utf8')).toContain('\n192.168.1.9 nas\n');

    expect((await fx.run(['hosts', 'clean'], { env })).code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(`${ORIGINAL}192.168.1.9 nas\n`);
  });

  it('prints the exact command when it lacks the rights, and that command works', async () => {
    const fx = await fixture(CONFIG);
    const file = hostsFile();
    // An ordinary user: its own state folder, a project it can read, a hosts file it cannot write.
    const home = mkdtempSync(path.join(os.tmpdir(), 'pb-home-nobody-'));
    onTestFinished(() => rmSync(home, { recursive: true, force: true }));
    chownSync(home, 65534, 65534);
    chmodSync(fx.root, 0o755);
    const env = { ...process.env, ...fx.env, PORTBROKER_HOME: home, PORTBROKER_HOSTS_FILE: file, npm_command: '' };
    execFileSync('runuser', ['-u', 'nobody', '--', process.execPath, CLI, 'ls'], { cwd: fx.root, env, stdio: 'pipe' });
    let stderr = '';
    try {
      execFileSync('runuser', ['-u', 'nobody', '--', process.execPath, CLI, 'hosts', 'sync'], { cwd: fx.root, env, encoding: 'utf8', stdio: 'pipe' });
      expect.unreachable('an ordinary user wrote the hosts file');
    } catch (error) {
      const e = error as { status: number; stderr: string };
      expect(e.status).toBe(1);
      stderr = e.stderr;
    }
    expect(stderr).toContain(`portbroker: cannot write ${file}: permission denied`);
    const command = /run it with the rights to: (sudo cp .*)$/m.exec(stderr)?.[1];
    expect(command).toBe(`sudo cp ${home}/hosts.pending ${file}`);
    expect(readFileSync(file, 'utf8')).toBe(ORIGINAL);
    // Run as printed (we are root already: without the sudo).
    execFileSync('sh', ['-c', command!.replace(/^sudo /, '')], { cwd: fx.root, env: { ...process.env, PORTBROKER_HOSTS_FILE: '' } });
    expect(readFileSync(file, 'utf8')).toContain('127.0.0.1 web.acme.localhost');
    expect(readFileSync(file, 'utf8').startsWith(ORIGINAL)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o644);
  });

  it('up keeps the block where the resolver lacks *.localhost: a Python service reaches its sibling by API_URL', async () => {
    const fx = await fixture({
      'serve.mjs': `import http from 'node:http';
http.createServer((q, r) => r.end('this is ' + process.env.PORTBROKER_SERVICE)).listen(Number(process.env.PORT), process.env.HOST);`,
      'client.py': `import os, time, urllib.request
for attempt in range(100):
    try:
        body = urllib.request.urlopen(os.environ['API_URL'] + '/', timeout=5).read().decode()
        print('FETCHED ' + body + ' from ' + os.environ['API_URL'], flush=True)
        break
    except Exception as error:
        last = error
        time.sleep(0.2)
else:
    print('FAILED ' + repr(last), flush=True)
time.sleep(600)
`,
      'portbroker.config.json': JSON.stringify({
        name: 'pyhosts',
        services: {
          api: { command: 'node serve.mjs' },
          client: { command: '/usr/bin/python3 client.py', dependsOn: ['api'], proxy: false, ready: { log: 'FETCHED|FAILED' } },
        },
      }),
    });
    // A private /etc/hosts: this mount namespace sees a copy, the machine's file is never touched.
    const file = hostsFile(readFileSync('/etc/hosts', 'utf8'));
    const script = `mount --bind "$PB_HOSTS" /etc/hosts && exec "$0" "$@"`;
    const ns = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, process.execPath, CLI, 'up'], {
      cwd: fx.root,
      env: { ...process.env, ...fx.env, PORTBROKER_HOSTS: '1', PORTBROKER_HOSTS_FILE: '/etc/hosts', PB_HOSTS: file },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    onTestFinished(() => {
      try {
        process.kill(-ns.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    });
    let output = '';
    ns.stdout!.on('data', (d: Buffer) => (output += d));
    ns.stderr!.on('data', (d: Buffer) => (output += d));
    const deadline = Date.now() + 45_000;
    while (!/FETCHED|FAILED/.test(output) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(output).toMatch(new RegExp(`FETCHED this is api from http://api\\.pyhosts\\.localhost:${fx.proxyPort}`));
    expect(output).toContain('the system resolver does not resolve *.localhost, so portbroker keeps its names in /etc/hosts');
    expect(readFileSync(file, 'utf8')).toContain('127.0.0.1 api.pyhosts.localhost');
    process.kill(-ns.pid!, 'SIGTERM');
    await new Promise((resolve) => ns.once('close', resolve));
  });
});
