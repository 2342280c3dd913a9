import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findListeners } from '../../src/platform/sockets.js';
import { fixture, freePort } from '../helpers/cli.js';
import { acceptsConnections } from '../../src/platform/loopback.js';
import { serviceRecord, until, viaProxy } from '../runner/helpers.js';

/**
 * Real Python dev servers nobody here wrote, started by their bare commands: Flask's `flask run` (port 5000 of
 * its own) and Django's `manage.py runserver` (8000) ignore PORT, and `python3 -m http.server {port}` listens on
 * every interface. portbroker adds their port and loopback flags: each serves on its reserved port, on
 * 127.0.0.1 only, reachable by name through the proxy. Debian's python3-flask and python3-django (`.ci/run`
 * installs them) for /usr/bin/python3.
 */

const PYTHON = '/usr/bin/python3';

function hasModules(): boolean {
  try {
    execFileSync(PYTHON, ['-c', 'import flask, django'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const skip = !hasModules() && !process.env.CI;
if (skip) console.warn(`skipping the Python dev server tests: ${PYTHON} lacks flask or django (apt-get install python3-flask python3-django)`);

// /usr/bin first: pyenv's python3 (first on PATH on some machines) has neither Flask nor Django.
const PATH = ['/usr/bin', '/bin', ...process.env.PATH!.split(':').filter((p) => !p.includes('pyenv'))].join(':');

const FLASK_APP = `from flask import Flask
app = Flask(__name__)

@app.route('/')
def index():
    return 'hello from flask'
`;

describe.skipIf(skip)('real Python dev servers started with bare commands', () => {
  it('flask run, manage.py runserver and python3 -m http.server {port} serve on their port, on loopback only', async () => {
    const fx = await fixture({
      'package.json': JSON.stringify({ name: 'py', private: true }),
      'portbroker.config.json': JSON.stringify({
        services: {
          flask: { command: 'flask run', cwd: 'flask' },
          django: { command: 'python3 manage.py runserver --noreload', cwd: 'django' },
          djreload: { command: 'python3 manage.py runserver', cwd: 'django' },
          files: { command: 'python3 -m http.server {port}', cwd: 'files' },
        },
      }),
      'flask/app.py': FLASK_APP,
      'files/hello.txt': 'hello from http.server\n',
    });
    mkdirSync(path.join(fx.root, 'django'));
    execFileSync(PYTHON, ['-m', 'django', 'startproject', 'mysite', path.join(fx.root, 'django')], { stdio: 'ignore', env: { ...process.env, PATH } });

    const up = fx.start(['up'], { env: { PATH } });
    const out = await up.waitFor(/SERVICE\s+PORT/, 60_000);
    const port = (s: string) => serviceRecord(fx, s)!.port;

    expect(out).toContain(`flask: flask ignores PORT, so portbroker added --port ${port('flask')} --host 127.0.0.1`);
    expect(out).toContain(`django: django runserver ignores PORT, so portbroker added 127.0.0.1:${port('django')}`);
    expect(out).toContain('files: portbroker added --bind 127.0.0.1 so http.server listens on loopback only');
    for (const s of ['flask', 'django', 'djreload', 'files']) {
      expect(out).toMatch(new RegExp(`${s}\\s+${port(s)}\\s+\\S+\\s+running`));
      // Every socket on its port is on 127.0.0.1 (the reloader's child included), none on 0.0.0.0 or ::.
      const listeners = findListeners(port(s));
      expect(listeners.length, s).toBeGreaterThan(0);
      expect(listeners.map((l) => l.address), s).toEqual(listeners.map(() => '127.0.0.1'));
    }

    expect(await viaProxy(fx, 'flask.py.localhost')).toMatchObject({ status: 200, body: 'hello from flask' });
    expect((await viaProxy(fx, 'django.py.localhost')).body).toContain('The install worked successfully!');
    expect((await viaProxy(fx, 'djreload.py.localhost')).status).toBe(200);
    expect((await viaProxy(fx, 'files.py.localhost', '/hello.txt')).body).toBe('hello from http.server\n');

    expect((await up.stop()).code).toBe(0);
  }, 120_000); // four servers booting can take over a minute on a loaded 2-core machine

  it('a Django that runs on a port of its own (its reloader polling files) is reported within seconds, naming that port', async () => {
    const fixed = await freePort();
    const fx = await fixture({
      'package.json': JSON.stringify({ name: 'py-fixed', private: true }),
      'portbroker.config.json': JSON.stringify({ services: { api: { command: `python3 manage.py runserver ${fixed}`, cwd: 'django' } } }),
    });
    mkdirSync(path.join(fx.root, 'django'));
    execFileSync(PYTHON, ['-m', 'django', 'startproject', 'mysite', path.join(fx.root, 'django')], { stdio: 'ignore', env: { ...process.env, PATH } });
    const up = fx.start(['up'], { env: { PATH } });
    // From the moment it serves on its own port (Python's first imports take seconds on a loaded machine).
    await until(() => acceptsConnections(fixed), `Django on port ${fixed}`, 60_000);
    const started = Date.now();
    const out = await up.waitFor(/api listens on \d+/, 30_000);
    const { port } = serviceRecord(fx, 'api')!;
    expect(out).toContain(`api listens on ${fixed}, not on its port ${port}`);
    expect(out).toContain(`write $PORT (or {port}) instead of ${fixed} in its command`);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect((await up.exited).code).toBe(1);
  }, 120_000);
});
