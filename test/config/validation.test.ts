import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/cli.js';

/** Each bad config must be refused with exit 2 and one line naming the file and the field. */
const BAD: Array<[string, string, RegExp]> = [
  ['an unknown field', `{ services: { web: { comand: 'x' } } }`, /portbroker\.config\.ts: services\.web\.comand: unknown field "comand" \(did you mean "command"\?\)/],
  ['an unknown top-level field', `{ servces: {}, services: { web: {} } }`, /portbroker\.config\.ts: servces: unknown field/],
  ['a wrong type', `{ services: { web: { command: 42 } } }`, /services\.web\.command: expected string, got number 42/],
  ['a wrong enum value', `{ services: { web: { restart: 'sometimes' } } }`, /services\.web\.restart: expected "no" or "on-failure" or "always", got "sometimes"/],
  ['a bad service name', `{ services: { Web_App: { command: 'x' } } }`, /services\.Web_App: "Web_App" is not a valid service name/],
  ['a bad project name', `{ name: 'Acme Corp', services: { web: {} } }`, /name: "Acme Corp" is not a DNS label/],
  ['an unknown dependsOn', `{ services: { web: { dependsOn: ['apx'] }, api: {} } }`, /services\.web\.dependsOn\[0\]: unknown service "apx" \(declared: web, api\)/],
  ['a dependency cycle', `{ services: { a: { dependsOn: ['b'] }, b: { dependsOn: ['c'] }, c: { dependsOn: ['a'] } } }`, /services\.a\.dependsOn: dependency cycle: a → b → c → a/],
  ['a pinned port above 65535', `{ services: { db: { port: 70000 } } }`, /services\.db\.port: port must be between 1 and 65535/],
  ['a pinned port of 0', `{ services: { db: { port: 0 } } }`, /services\.db\.port: port must be between 1 and 65535/],
  ['a fractional port', `{ services: { db: { port: 5432.5 } } }`, /services\.db\.port: port must be a whole number/],
  ['two services pinning one port', `{ services: { a: { port: 24400 }, b: { port: 24400 } } }`, /services\.b\.port: port 24400 is already pinned by service "a"/],
  ['an env reference to an unknown service', `{ services: { web: { env: { API: '\${apx.url}' } } } }`, /services\.web\.env\.API: "\$\{apx\.url\}" names unknown service "apx"/],
  ['a url reference to a service without a URL', `{ services: { web: { env: { DB: '\${db.url}' } }, db: { proxy: false } } }`, /services\.web\.env\.DB: "\$\{db\.url\}": db has no URL \(proxy: false\); use \$\{db\.port\}, or give it one with url:/],
  ['a url on an HTTP service', `{ services: { web: { url: 'x://127.0.0.1:\${port}' } } }`, /services\.web\.url: only applies to proxy: false services/],
  ['an unknown reference in a url', `{ services: { web: { proxy: false, url: 'x://\${host}' } } }`, /services\.web\.url: unknown reference "\$\{host\}"; a url may use \$\{port\}/],
  ['a missing cwd folder', `{ services: { web: { command: 'x', cwd: 'apps/nope' } } }`, /services\.web\.cwd: folder "apps\/nope" does not exist/],
  ['no services', `{ services: {} }`, /services: declares no service/],
  ['a reversed range', `{ ports: { range: [60000, 50000] }, services: { web: {} } }`, /ports\.range: start 60000 is above end 50000/],
  ['not an object', `42`, /portbroker\.config\.ts: must export a config object/],
];

describe('bad config is refused before anything starts', () => {
  for (const [what, body, message] of BAD) {
    it(`refuses ${what}`, async () => {
      const fx = await fixture({ 'portbroker.config.ts': `export default ${body};\n` });
      const result = await fx.run(['port', 'web']);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stdout).toBe('');
      // Nothing was reserved.
      const ls = await fx.run(['ls', '--all', '--json']);
      expect(JSON.parse(ls.stdout)).toEqual([]);
    });
  }

  it('lists every problem, one line each', async () => {
    const fx = await fixture({ 'portbroker.config.ts': `export default { services: { web: { comand: 'x', port: 'x' }, api: { restart: 'never' } } };\n` });
    const result = await fx.run(['port', 'web']);
    expect(result.code).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).toMatch(/portbroker\.config\.ts: services\./);
  });

  it('refuses a bad --proxy-port and PORTBROKER_RANGE with exit 2', async () => {
    const fx = await fixture({ 'portbroker.config.json': JSON.stringify({ services: { web: {} } }) });
    const badFlag = await fx.run(['port', 'web', '--proxy-port', 'abc']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/--proxy-port: "abc" is not a port number/);
    const badRange = await fx.run(['port', 'web'], { env: { PORTBROKER_RANGE: '60000' } });
    expect(badRange.code).toBe(2);
    expect(badRange.stderr).toMatch(/PORTBROKER_RANGE: "60000" is not a range/);
  });
});

describe('pinned ports', () => {
  it('names a process listening on both loopbacks once; our own proxy is not a process to stop', async () => {
    const v4 = net.createServer();
    await new Promise<void>((resolve) => v4.listen(0, '127.0.0.1', resolve));
    const busy = (v4.address() as net.AddressInfo).port;
    const v6 = net.createServer();
    await new Promise<void>((resolve) => v6.listen(busy, '::1', resolve));
    try {
      const fx = await fixture({ 'portbroker.config.json': JSON.stringify({ services: { db: { port: busy, proxy: false } } }) });
      const result = await fx.run(['port', 'db']);
      expect(result.stderr).toContain(`is in use by pid ${process.pid} (`);
      expect(result.stderr).toMatch(/ on 127\.0\.0\.1 and ::1\n/);
      expect(result.stderr.match(new RegExp(`pid ${process.pid}`, 'g'))).toHaveLength(1);
    } finally {
      v4.close();
      v6.close();
    }
    const fx = await fixture({});
    fx.write('portbroker.config.json', JSON.stringify({ services: { db: { port: fx.proxyPort, proxy: false } } }));
    expect((await fx.run(['proxy', 'start'])).code).toBe(0);
    const result = await fx.run(['port', 'db']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`port ${fx.proxyPort} pinned by services.db.port is portbroker's proxy port`);
    expect(result.stderr).toContain('pin another port in portbroker.config.json, or move the proxy');
    expect(result.stderr).not.toContain('stop that process');
    expect(result.stderr).not.toContain('portbroker-proxy');
  });

  it('names the process holding a busy pinned port, exit 1, nothing reserved', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const busy = (server.address() as net.AddressInfo).port;
    try {
      const fx = await fixture({ 'portbroker.config.json': JSON.stringify({ services: { db: { port: busy, proxy: false }, web: {} } }) });
      const result = await fx.run(['port', 'web']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`port ${busy} pinned by services.db.port is in use by pid ${process.pid}`);
      expect(result.stderr).toContain('127.0.0.1');
      const ls = await fx.run(['ls', '--all', '--json']);
      expect(JSON.parse(ls.stdout)).toEqual([]);
    } finally {
      server.close();
    }
  });

  it('refuses a pinned port another project holds, naming it', async () => {
    const a = await fixture({ 'portbroker.config.json': JSON.stringify({ name: 'alpha', services: { db: { port: 24410 } } }) });
    expect((await a.run(['port', 'db'])).code).toBe(0);
    const b = await fixture({ 'portbroker.config.json': JSON.stringify({ name: 'beta', services: { db: { port: 24410 } } }) });
    const result = await b.run(['port', 'db'], { env: { PORTBROKER_HOME: a.home } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/port 24410 pinned by services\.db\.port is reserved by alpha\/db in /);
  });
});
