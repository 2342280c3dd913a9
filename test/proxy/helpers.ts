import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { onTestFinished } from 'vitest';
import { parseServicePath } from '../../src/control/protocol.js';
import { controlSocket } from '../../src/platform/paths.js';
import { updateRegistry, type ServiceRecord } from '../../src/ports/registry.js';
import type { Fixture } from '../helpers/cli.js';

/**
 * Plumbing for the proxy tests: services registered straight in a fixture's registry (as `up` will), real
 * upstream servers in the test process, the proxy daemon started through the real CLI, and plain HTTP requests
 * sent to 127.0.0.1 with a Host header (`*.localhost` does not resolve through this machine's resolver).
 */

export interface ServiceEntry {
  project?: string;
  label?: string;
  service: string;
  port: number;
  state?: ServiceRecord['state'];
  /** Defaults to a stand-in process that lives as long as the test. */
  pid?: number;
  hostnames?: string[];
  command?: string;
  onDemand?: boolean;
  proxy?: boolean;
  ownerPid?: number;
  /** The supervisor of this one service (`ServiceRecord.owner`), when not the checkout's. */
  owner?: number;
  control?: string;
}

/** Writes (or replaces) one service record, creating its checkout (root `/checkouts/<project>[-<label>]`). */
export async function registerService(home: string, entry: ServiceEntry): Promise<void> {
  const project = entry.project ?? 'acme';
  const label = entry.label ?? '';
  const root = `/checkouts/${project}${label ? `-${label}` : ''}`;
  await updateRegistry(home, (data) => {
    const checkout = (data.checkouts[root] ??= { project, label, root, services: {} });
    if (entry.ownerPid !== undefined) checkout.ownerPid = entry.ownerPid;
    if (entry.control !== undefined) checkout.control = entry.control;
    checkout.services[entry.service] = {
      port: entry.port,
      proxy: entry.proxy ?? true,
      hostnames: entry.hostnames ?? [],
      state: entry.state ?? 'running',
      pid: entry.pid ?? livePid(),
      owner: entry.owner,
      command: entry.command,
      onDemand: entry.onDemand,
      reservedAt: new Date().toISOString(),
    };
  });
}

let standIn: number | undefined;

/**
 * A process that stays alive until the test ends, in its own process group: the pid (and supervisor pid) of
 * registered services. Never this test's own pid: the fixtures' cleanup kills every pid the registry records.
 */
export function livePid(): number {
  if (standIn === undefined) {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { detached: true, stdio: 'ignore' });
    child.unref();
    const pid = child.pid!;
    standIn = pid;
    onTestFinished(() => {
      standIn = undefined;
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone already
      }
    });
  }
  return standIn;
}

export async function setState(home: string, service: string, state: ServiceRecord['state'], project = 'acme'): Promise<void> {
  await updateRegistry(home, (data) => {
    for (const checkout of Object.values(data.checkouts)) {
      if (checkout.project === project && checkout.services[service]) checkout.services[service]!.state = state;
    }
  });
}

export interface Upstream {
  server: http.Server;
  port: number;
  /** Every TCP connection the server accepted. */
  connections: net.Socket[];
  open(): number;
}

/** A real HTTP server on a loopback address, closed when the test ends. */
export async function startUpstream(handler: http.RequestListener, host = '127.0.0.1', port = 0): Promise<Upstream> {
  const server = http.createServer(handler);
  const connections: net.Socket[] = [];
  server.on('connection', (socket) => connections.push(socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port, ipv6Only: host === '::1' }, resolve);
  });
  onTestFinished(() => {
    // Upgraded (WebSocket) connections are no longer the server's: end them too.
    for (const socket of connections) socket.destroy();
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    server,
    port: (server.address() as net.AddressInfo).port,
    connections,
    open: () => connections.filter((s) => !s.destroyed).length,
  };
}

/** Starts the fixture's proxy daemon through the CLI; the fixture's cleanup kills it. Returns its pid. */
export async function startProxy(fx: Fixture, env: NodeJS.ProcessEnv = {}): Promise<number> {
  const result = await fx.run(['proxy', 'start', '--json'], { env, timeoutMs: 20_000 });
  if (result.code !== 0) throw new Error(`proxy start failed (${result.code}):\n${result.stdout}${result.stderr}`);
  return (JSON.parse(result.stdout) as { pid: number }).pid;
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request to the proxy on 127.0.0.1 with the given Host. */
export function get(port: number, host: string, options: { path?: string; headers?: http.OutgoingHttpHeaders; agent?: http.Agent | false; method?: string; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, path: options.path ?? '/', method: options.method ?? 'GET', headers: { host, ...options.headers }, agent: options.agent ?? false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Waits until `check` holds (bounded; this is waiting, not a timing assertion). */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** The proxy's own view of its sockets (`/api/status` on the dashboard host). */
export async function proxyConnections(port: number): Promise<{ clients: number; upstreams: number; spliced: number; handedOver: number }> {
  const reply = await get(port, 'portbroker.localhost', { path: '/api/status' });
  return (JSON.parse(reply.body) as { connections: { clients: number; upstreams: number; spliced: number; handedOver: number } }).connections;
}

/** Resident memory of a process in bytes, from /proc. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb * 1024;
}

export function logFile(home: string, project: string, service: string, label = ''): string {
  return path.join(home, 'logs', label ? `${project}.${label}` : project, `${service}.log`);
}

/** A stand-in supervisor of on-demand services: it records the starts and touches the proxy asks of it. */
export interface Supervisor {
  socket: string;
  starts: string[];
  touches: string[];
}

/** Speaks the control-socket contract (src/control/client.ts) over a real Unix socket; `onStart` starts the service. */
export async function startSupervisor(home: string, onStart: (service: string) => Promise<void>): Promise<Supervisor> {
  const socket = controlSocket(home, livePid());
  mkdirSync(path.dirname(socket), { recursive: true });
  const supervisor: Supervisor = { socket, starts: [], touches: [] };
  const server = http.createServer((req, res) => {
    const target = parseServicePath(req.url ?? '');
    req.resume();
    if (!target || req.method !== 'POST') return void res.writeHead(404).end();
    if (target.action === 'touch') {
      supervisor.touches.push(target.service);
      return void res.writeHead(204).end();
    }
    supervisor.starts.push(target.service);
    res.writeHead(202).end();
    void onStart(target.service);
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  onTestFinished(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return supervisor;
}
