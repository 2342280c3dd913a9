import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { hasEnded, readStat } from '../../src/platform/proc.js';
import type { RegistryData, ServiceRecord } from '../../src/ports/registry.js';
import type { Fixture } from '../helpers/cli.js';

/**
 * Plumbing for the runner's integration tests: tiny fixture services, the registry of a fixture, HTTP to a
 * port with a chosen Host header (`*.localhost` does not resolve here), and a look at /proc for processes a
 * fixture left behind.
 */

/**
 * A tiny service: listens on $PORT at $HOST, answers `/env` with its environment as JSON, `/health` with 200,
 * anything else with its name; prints `<service> listening on <port>`. Options by argument:
 * `--delay <ms>` before listening, `--child` spawns a sleeping grandchild first (printing its pid).
 */
export const SERVE = `
import http from 'node:http';
import { spawn } from 'node:child_process';
const args = process.argv.slice(2);
const opt = (name) => { const i = args.indexOf(name); return i === -1 ? undefined : args[i + 1]; };
const name = process.env.PORTBROKER_SERVICE;
if (args.includes('--child')) {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  console.log(name + ' grandchild ' + child.pid);
}
const server = http.createServer((req, res) => {
  if (req.url === '/env') { res.setHeader('content-type', 'application/json'); return void res.end(JSON.stringify(process.env)); }
  if (req.url === '/health') return void res.end('ok');
  if (req.url === '/fetch') {
    fetch(process.env.TARGET_URL + '/env', { headers: {} }).then((r) => r.json()).then(
      (body) => res.end(JSON.stringify({ ok: true, service: body.PORTBROKER_SERVICE })),
      (error) => res.end(JSON.stringify({ ok: false, error: String(error?.cause?.code ?? error) })),
    );
    return;
  }
  res.end('this is ' + name);
});
setTimeout(() => server.listen(Number(process.env.PORT), process.env.HOST, () => console.log(name + ' listening on ' + process.env.PORT)), Number(opt('--delay') ?? 0));
process.on('SIGTERM', () => process.exit(0));
`;

export function readRegistry(fx: Fixture): RegistryData {
  try {
    return JSON.parse(readFileSync(path.join(fx.home, 'registry.json'), 'utf8')) as RegistryData;
  } catch {
    return { version: 1, checkouts: {}, aliases: {} };
  }
}

export function serviceRecord(fx: Fixture, service: string): ServiceRecord | undefined {
  const data = readRegistry(fx);
  for (const checkout of Object.values(data.checkouts)) if (checkout.services[service]) return checkout.services[service];
  return undefined;
}

/** GET 127.0.0.1:port with a Host header; the body as text. */
export function get(port: number, urlPath = '/', host?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false, headers: host ? { host } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`no answer from port ${port} within 30 s`)));
    req.on('error', reject);
  });
}

/** Through the fixture's proxy, as a browser asking for `host` would. */
export function viaProxy(fx: Fixture, host: string, urlPath = '/'): Promise<{ status: number; body: string }> {
  return get(fx.proxyPort, urlPath, `${host}:${fx.proxyPort}`);
}

/** Polls `check` until it returns something truthy (or throws after `timeoutMs`). */
export async function until<T>(check: () => T | Promise<T>, what: string, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * Live processes started for this fixture: their environment names its state folder (the CLI passes
 * PORTBROKER_HOME on to every service and what it spawns). The proxy daemon, shared by design, and ended zombies
 * (nobody reaps orphans in this container) do not count.
 */
export function fixtureProcesses(fx: Fixture): Array<{ pid: number; cmdline: string }> {
  const marker = `PORTBROKER_HOME=${fx.home}\0`;
  let proxyPid: number | undefined;
  try {
    proxyPid = (JSON.parse(readFileSync(path.join(fx.home, 'proxy.json'), 'utf8')) as { pid: number }).pid;
  } catch {
    // no proxy
  }
  const found: Array<{ pid: number; cmdline: string }> = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid || pid === proxyPid) continue;
    try {
      if (!readFileSync(`/proc/${pid}/environ`, 'latin1').includes(marker)) continue;
      if (!alive(pid)) continue;
      found.push({ pid, cmdline: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim() });
    } catch {
      // gone meanwhile, or not ours
    }
  }
  return found;
}

/**
 * Whether a pid is alive, by portbroker's own rule (`hasEnded`): a zombie has ended, unless its leader exited while
 * other threads run on (they still hold its sockets, so a leak check must count it).
 */
export function alive(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== undefined && !hasEnded(stat);
}

/** A JSON config for a fixture. */
export function config(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
