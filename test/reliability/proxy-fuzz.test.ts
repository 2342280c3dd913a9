import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/cli.js';
import { registerService, startProxy, startUpstream, until } from '../proxy/helpers.js';
import { openFds, proxyLog, RawClient, type RawResponse } from '../proxy/raw.js';

/**
 * Fuzzing the proxy's request path: random Host headers and request lines, pipelined on keep-alive connections,
 * split at random bytes, against the real daemon and two real services. Seeded (PORTBROKER_FUZZ_SEED) and
 * bounded. What must hold for every case: the proxy does not crash or hang; a request for a name that is not
 * local is never answered by a service; every response a service gives is the answer to the request it is
 * paired with (same service, same path, in order); and the proxy's fds return to where they were.
 */

const SEED = Number(process.env.PORTBROKER_FUZZ_SEED ?? 20261130);

/** mulberry32: small, fast, good enough to pick cases, and the same for a seed on every machine. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick };
}
type Random = ReturnType<typeof random>;

/** Who must answer: a service, the proxy itself (never a service), or anyone but the wrong service. */
type Expect = 'web' | 'api' | 'proxy';

interface Case {
  bytes: string;
  method: string;
  path: string;
  expect: Expect;
  /** After this request the connection may end (a malformed request, HTTP/1.0, …): nothing is sent after it. */
  terminal: boolean;
}

const SERVICE_NAMES: Array<[string, Expect]> = [
  ['web.acme.localhost', 'web'],
  ['api.acme.localhost', 'api'],
  ['web.localhost', 'web'],
  ['api.localhost', 'api'],
  ['app.localhost', 'web'], // a hostname of web
];

const FOREIGN = ['evil.com', 'web.acme.localhost.evil.com', 'localhost.evil.com', 'web.acme.localhost-evil.com', '127.0.0.1.nip.io', '10.0.0.1', '192.168.1.2', '[::2]', '[2001:db8::1]:80', 'localhost.', 'xn--localhost-.com', 'a.b.c.d.e.f.example', 'LOCALHOST.EVIL'];
const JUNK_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789.-_:[]@%/\\?#~!$&\'()*+,;=<>"{}|^` \t';

/** A Host value and who must answer it. */
function hostValue(rnd: Random, port: number): { value: string | string[] | undefined; expect: Expect; terminal: boolean } {
  const roll = rnd.next();
  if (roll < 0.45) {
    const [name, expect] = rnd.pick(SERVICE_NAMES);
    // Case, a trailing dot and a port suffix do not matter.
    let value = rnd.next() < 0.3 ? name.replace(/[a-z]/g, (c) => (rnd.next() < 0.5 ? c.toUpperCase() : c)) : name;
    if (rnd.next() < 0.2) value += '.';
    if (rnd.next() < 0.5) value += `:${rnd.pick([port, 80, 1, 65535, 7355])}`;
    return { value, expect, terminal: false };
  }
  if (roll < 0.65) return { value: rnd.pick(FOREIGN) + (rnd.next() < 0.3 ? `:${port}` : ''), expect: 'proxy', terminal: false };
  if (roll < 0.72) return { value: `${rnd.pick(['nope', 'web.nope', 'web-2.acme', 'api.globex', 'x'])}.localhost`, expect: 'proxy', terminal: false };
  if (roll < 0.85) {
    // Junk: printable characters in random order. Never a service's name.
    const length = 1 + rnd.int(40);
    let value = '';
    for (let i = 0; i < length; i++) value += JUNK_CHARS[rnd.int(JUNK_CHARS.length)];
    return { value: value.trim() || 'x y', expect: 'proxy', terminal: false };
  }
  if (roll < 0.9) {
    // A local name disguised: credentials, paths, a second name after a space or comma.
    const [name] = rnd.pick(SERVICE_NAMES);
    return { value: rnd.pick([`evil.com@${name}`, `${name}@evil.com`, `${name}/evil`, `${name} evil.com`, `${name},evil.com`, `${name}:99x`, `${name}..`]), expect: 'proxy', terminal: false };
  }
  if (roll < 0.95) {
    // Two Host headers: refused whichever they name.
    const [first] = rnd.pick(SERVICE_NAMES);
    return { value: [first, rnd.pick([...FOREIGN, first])], expect: 'proxy', terminal: true };
  }
  if (roll < 0.97) return { value: undefined, expect: 'proxy', terminal: true };
  // Bytes an HTTP parser may refuse outright: control characters, high latin1 bytes.
  const [name] = rnd.pick(SERVICE_NAMES);
  return { value: `${name}${rnd.pick(['\x01', '\x7f', '\xe9', '\x00', '\x0b'])}x`, expect: 'proxy', terminal: true };
}

/** One request: a random method, path and version, and a Host from above. */
function makeCase(rnd: Random, port: number, n: number): Case {
  const host = hostValue(rnd, port);
  let terminal = host.terminal;
  const path = `/f${n}${rnd.pick(['', '/a/b', '?q=1&r=%20', '/%2e%2e/%00', '/..;/x', '/' + 'z'.repeat(rnd.int(300))])}`;
  const method = rnd.pick(['GET', 'GET', 'GET', 'HEAD', 'POST', 'OPTIONS', 'DELETE', 'PUT']);
  let line = `${method} ${path} HTTP/1.1`;
  const lineRoll = rnd.next();
  let expect = host.expect;
  if (lineRoll < 0.02) {
    // An absolute URI names the host itself, and Host is ignored: routed by the URI, as a service reads it.
    line = `${method} http://${rnd.pick(['evil.com', 'web.acme.localhost@evil.com', 'api.acme.localhost.evil.com'])}${path} HTTP/1.1`;
    expect = 'proxy';
  } else if (lineRoll < 0.05) {
    line = rnd.pick([`${method} ${path} HTTP/1.0`, `${method} ${path} HTTP/2.0`, `${method.toLowerCase()} ${path} HTTP/1.1`, `G@T ${path} HTTP/1.1`, `${method}  ${path} HTTP/1.1`, `${method} ${path}`, `\x16\x03\x01 ${path}`]);
    terminal = true;
  }
  const headers: string[] = [];
  const hosts = host.value === undefined ? [] : Array.isArray(host.value) ? host.value : [host.value];
  for (const value of hosts) headers.push(`${rnd.pick(['Host', 'host', 'HOST', 'hOsT'])}:${rnd.pick([' ', '', '  ', '\t'])}${value}`);
  if (rnd.next() < 0.3) headers.splice(rnd.int(headers.length + 1), 0, `Accept: ${rnd.pick(['*/*', 'application/json', 'text/html'])}`);
  if (rnd.next() < 0.1) headers.push(`X-Forwarded-Host: ${rnd.pick(FOREIGN)}`);
  let body = '';
  if (method === 'POST' || method === 'PUT') {
    body = 'x'.repeat(rnd.int(200));
    headers.push(rnd.next() < 0.8 ? `Content-Length: ${body.length}` : 'Transfer-Encoding: chunked');
    if (headers.at(-1)!.startsWith('Transfer')) body = body ? `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n` : '0\r\n\r\n';
  }
  return { bytes: `${line}\r\n${headers.join('\r\n')}${headers.length ? '\r\n' : ''}\r\n${body}`, method, path, expect, terminal };
}

/** Checks one response against its request; returns what is wrong, or undefined. */
function misfit(c: Case, response: RawResponse): string | undefined {
  const servedBy = response.headers['x-served-by'];
  if (servedBy && c.expect === 'proxy') return `served by ${servedBy}, but the Host is not a local service name`;
  if (!servedBy && c.expect !== 'proxy' && !c.terminal) return `answered ${response.status} by the proxy, expected ${c.expect}`;
  if (servedBy && c.expect !== 'proxy' && servedBy !== c.expect) return `served by ${servedBy}, expected ${c.expect}`;
  if (servedBy && decodeURIComponent(response.headers['x-url'] ?? '') !== c.path) return `the answer to ${response.headers['x-url']} came for ${c.path}`;
  return undefined;
}

describe.each([
  ['fast path', {}, Number(process.env.PORTBROKER_FUZZ_CASES ?? 10_000)],
  ['general path', { PORTBROKER_PROXY_FAST_PATH: '0' }, Number(process.env.PORTBROKER_FUZZ_CASES ?? 2_000)],
] as const)('fuzzing the %s', (_name, env, cases) => {
  it(`answers ${cases} random requests, pipelined, each by the right one (seed ${SEED})`, { timeout: 600_000 }, async () => {
    const fx = await fixture();
    const pid = await startProxy(fx, env);
    const port = fx.proxyPort;
    for (const name of ['web', 'api']) {
      const upstream = await startUpstream(async (req, res) => {
        for await (const _ of req); // read the body through
        res.setHeader('x-served-by', name);
        res.setHeader('x-url', encodeURIComponent(req.url ?? ''));
        res.end(`${name} ${req.method} ${req.url}`);
      });
      await registerService(fx.home, { service: name, port: upstream.port, hostnames: name === 'web' ? ['app'] : [] });
    }
    const rnd = random(SEED + ('PORTBROKER_PROXY_FAST_PATH' in env ? 1 : 0));
    const baseline = openFds(pid);
    let sent = 0;
    let answered = 0;
    const problems: string[] = [];

    const connection = async (batch: Case[]) => {
      const client = await RawClient.connect(port);
      const bytes = Buffer.from(batch.map((c) => c.bytes).join(''), 'latin1');
      for (const c of batch) client.methods.push(c.method);
      // Split at random points: heads and bodies that arrive in pieces.
      for (let at = 0; at < bytes.length; ) {
        const size = rnd.next() < 0.5 ? bytes.length : 1 + rnd.int(200);
        client.write(bytes.subarray(at, at + size));
        at += size;
        if (at < bytes.length) await new Promise((r) => setImmediate(r));
      }
      const wanted = batch.filter((c) => !c.terminal).length;
      await client.responsesOrClose(batch.length, `answers to ${batch.length} requests (seed ${SEED})`, 30_000).catch(() => undefined);
      if (client.responses.length < wanted) {
        const state = `${client.closed ? 'closed' : 'open'}, unread ${JSON.stringify(client.pending.slice(0, 300))}`;
        problems.push(`${client.responses.length} answers to ${wanted} requests on one connection (${state}): ${JSON.stringify(batch.map((c) => c.bytes.slice(0, 120)))}`);
      }
      for (const [i, response] of client.responses.entries()) {
        const c = batch[i];
        if (!c) {
          problems.push(`an answer too many: ${response.status}`);
          break;
        }
        const wrong = misfit(c, response);
        if (wrong) problems.push(`${wrong}: ${JSON.stringify(c.bytes.slice(0, 200))}`);
      }
      answered += client.responses.length;
      client.socket.destroy();
    };

    const parallel = 6;
    let n = 0;
    const worker = async () => {
      while (sent < cases && problems.length < 20) {
        const batch: Case[] = [];
        const size = 1 + rnd.int(24);
        while (batch.length < size && sent < cases) {
          const c = makeCase(rnd, port, n++);
          batch.push(c);
          sent++;
          if (c.terminal) break;
        }
        await connection(batch);
      }
    };
    await Promise.all(Array.from({ length: parallel }, worker));

    expect(problems, `seed ${SEED}`).toEqual([]);
    expect(sent).toBeGreaterThanOrEqual(cases);
    expect(answered).toBeGreaterThan(cases * 0.9);
    process.kill(pid, 0); // still there
    expect(proxyLog(fx.home)).not.toMatch(/uncaught|internal error/i);
    await until(() => openFds(pid) <= baseline, `the proxy's fds to return to ${baseline}`, 30_000);
  });
});
