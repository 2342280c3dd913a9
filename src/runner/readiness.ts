import http from 'node:http';
import type { ReadySpec } from '../config/project-config.js';
import { connects, LOOPBACK } from '../platform/loopback.js';
import { sleep } from '../platform/sleep.js';

/**
 * Whether a started service is ready: its `ready.http` path answers 2xx/3xx, its port accepts a connection
 * (`ready.tcp`, and the default), or a line of its output matches `ready.log`. A service may listen on
 * 127.0.0.1, ::1 or both, so the port is tried on both.
 */

/**
 * Poll every 10 ms for the first second (most dev servers are up within it, and a refused loopback connect costs
 * microseconds), then back off to `MAX_INTERVAL`: polling by doubling from the start found a server that was up
 * at 125 ms only at 170 ms, a third of a small service's restart.
 */
const FIRST_INTERVAL = 10;
const FAST_FOR_MS = 1_000;
const MAX_INTERVAL = 50;

export interface ReadinessOptions {
  port: number;
  ready: ReadySpec;
  /** Aborted when the process exits or the service is being stopped. */
  signal: AbortSignal;
  /** Resolves when a log line matched `ready.log` (the supervisor watches the output). */
  logMatched?: Promise<void>;
}

export type Readiness = { ready: true; how: string } | { ready: false; reason: string };

/** How a service's readiness is judged, in words for messages: "GET /health answers 2xx/3xx". */
export function describeProbe(ready: ReadySpec, port: number): string {
  if (ready.log) return `its output matches ${ready.log}`;
  if (ready.http) return `GET ${ready.http} on port ${port} answers 2xx/3xx`;
  return `port ${port} accepts connections`;
}

/**
 * Resolves `{ready: true}` when the probe passes, `{ready: false}` on timeout (with the last probe result as
 * the reason). Resolves `{ready: false, reason: 'aborted'}` when `signal` aborts first.
 */
export async function waitUntilReady(options: ReadinessOptions): Promise<Readiness> {
  const { ready, port, signal } = options;
  const deadline = Date.now() + ready.timeoutMs;
  if (ready.log) {
    const matched = options.logMatched ?? new Promise<void>(() => undefined);
    const outcome = await Promise.race([
      matched.then(() => 'matched' as const),
      sleep(ready.timeoutMs, signal).then(() => 'timeout' as const),
    ]);
    if (signal.aborted) return { ready: false, reason: 'aborted' };
    return outcome === 'matched' ? { ready: true, how: `log matched ${ready.log}` } : { ready: false, reason: `no line of its output matched ${ready.log}` };
  }
  const started = Date.now();
  let interval = FIRST_INTERVAL;
  let last = 'nothing accepted connections';
  for (let attempt = 0; ; attempt++) {
    if (signal.aborted) return { ready: false, reason: 'aborted' };
    // Services are told HOST=127.0.0.1; one that listens on ::1 alone is found on every other attempt.
    const hosts = attempt % 2 === 0 ? LOOPBACK : LOOPBACK.slice(0, 1);
    const probe = ready.http ? await httpProbe(port, ready.http, hosts) : await tcpProbe(port, hosts);
    if (probe.ok) return { ready: true, how: probe.how };
    last = probe.reason;
    const left = deadline - Date.now();
    if (left <= 0) return { ready: false, reason: last };
    await sleep(Math.min(interval, left), signal);
    if (Date.now() - started >= FAST_FOR_MS) interval = Math.min(MAX_INTERVAL, interval * 2);
  }
}

type Probe = { ok: true; how: string } | { ok: false; reason: string };

async function tcpProbe(port: number, hosts: readonly string[]): Promise<Probe> {
  for (const host of hosts) {
    if (await connects(host, port)) return { ok: true, how: `port ${port} accepts connections` };
  }
  return { ok: false, reason: `nothing accepted connections on port ${port}` };
}

async function httpProbe(port: number, path: string, hosts: readonly string[]): Promise<Probe> {
  let reason = `nothing accepted connections on port ${port}`;
  for (const host of hosts) {
    const result = await get(host, port, path);
    if (result.status === undefined) continue;
    if (result.status >= 200 && result.status < 400) return { ok: true, how: `GET ${path} answered ${result.status}` };
    reason = `GET ${path} answered ${result.status}`;
    break;
  }
  return { ok: false, reason };
}

function get(host: string, port: number, path: string): Promise<{ status?: number }> {
  return new Promise((resolve) => {
    // Host "localhost": dev servers that check the Host header (vite, webpack) accept it.
    const req = http.get({ host, port, path, agent: false, timeout: 2_000, headers: { host: `localhost:${port}`, 'user-agent': 'portbroker-ready' } }, (res) => {
      res.resume();
      resolve({ status: res.statusCode });
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve({}));
  });
}
