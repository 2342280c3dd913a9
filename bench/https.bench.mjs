#!/usr/bin/env node
// The HTTPS benchmark, two parts, each measured side by side in one run:
//
// 1. A real Vite dev app of 1,000 ES modules (a generated tree: 10 + 10 × 9 + 10 × 9 × 10 below main.js), loaded in headless
//    Chromium with a fresh browser context each time; the time is from navigation start to main.js running, which ES
//    module order puts after every module was evaluated (the page's own clock). Direct to Vite over HTTP/1.1, through
//    portbroker over HTTPS/h2 (Chromium trusts the CA through an NSS database made here), through portbroker over
//    plain HTTP/1.1, and Caddy over HTTPS/h2 as a yardstick, interleaved over BENCH_ROUNDS rounds (default 5):
//    medians with min–max, ratios to direct, and the CPU each load cost Chromium, Vite and the proxy.
//    How it measures, and why: Chromium is driven over the DevTools protocol with no domain enabled
//    (chromium.mjs), not through Playwright, whose per-request protocol events cost the browser ~25% more CPU per
//    load. Even so the browser spends ~9 s of CPU per load (~9 ms per module, ~40% of it in the kernel: this VM
//    makes page faults and TLB flushes dear), the same on every path and the same from a static server as from
//    Vite: on 2 shared cores the page is bound by the browser's CPU, and what a proxy adds is mostly its own CPU.
//    Each line ends with that floor, the load's CPU (Chromium + Vite + proxy) spread over every core, against
//    direct's: on a quiet machine the medians sit on it, and a path can beat direct by no more than its floor does.
//    Behind Caddy's h2 and behind portbroker's, Chromium spends the same CPU (runs differ by ±0.5 s either way):
//    neither the cipher (Node picks AES-256-GCM, Go AES-128-GCM), nor a stream limit like Go's 250, nor the write
//    shape (Node's http2 coalesces a round of frames into one write, ~11 KB on average; Caddy writes ~0.9 KB at a
//    time) moved it. What differs is the proxy's own CPU: 0.5–0.6 s per load, like Caddy's, since h2 streams skip
//    Node's compatibility layer and http-proxy-3 (it was 0.8 s).
// 2. A small GET's throughput through the proxy: plain HTTP/1.1 and HTTPS/1.1 with wrk (keep-alive, -c50), and
//    plain HTTP/1.1, HTTPS/1.1 and HTTP/2 with one Node client (50 requests in flight) so h2 has a like-for-like.
//
//   npm run bench -- https                 BENCH_ROUNDS=5 BENCH_SECONDS=5 (BENCH_ONLY=page or get: one part)
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { launchChromium } from './chromium.mjs';
import { benchRun, commandExists, cpuTicks, freePort, median, runCaddy, seedBenchRoute, ticksPerSecond, treeCpuTicks } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const cli = path.join(repo, 'dist', 'cli', 'main.js');
const CHROMIUM = '/usr/bin/chromium';

const MODULES = 1000;
let expectedSum = 0;
const UPSTREAM = `
const http = require('node:http');
const body = Buffer.alloc(1024, 'x');
const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length }).end(body));
server.keepAliveTimeout = 60_000;
server.listen(Number(process.argv[1]), '127.0.0.1', () => process.stdout.write('ready\\n'));
`;
const afterLoad = [];

if (process.argv[2] === '--load') await runLoadClient(JSON.parse(process.argv[3]));
else await main();

async function main() {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
  const seconds = Number(process.env.BENCH_SECONDS ?? 5);
  const only = process.env.BENCH_ONLY; // page or get: one part alone
  const { work, cleanups, cleanup } = benchRun('pb-bench-https-');
  try {
    if (only !== 'get') await pageLoads(rounds, work, cleanups);
    if (only !== 'page') await smallGets(seconds, work, cleanups);
  } finally {
    cleanup();
  }
}

async function pageLoads(rounds, work, cleanups) {
  {
    const app = generateApp(path.join(work, 'app'));
    const vitePort = await freePort();
    const vite = spawn(path.join(repo, 'node_modules', '.bin', 'vite'), ['--port', String(vitePort), '--strictPort', '--host', '127.0.0.1'], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(() => vite.kill('SIGKILL'));
    await waitForPort(vitePort, vite);

    const secure = await startPortbroker('https', true, vitePort, vite.pid, work, cleanups);
    const plain = await startPortbroker('http', false, vitePort, vite.pid, work, cleanups);
    const browserHome = trustingHome(work, secure.env);
    // Caddy over HTTPS/h2 with a certificate from the same CA: what a mature proxy gets on this machine today.
    const caddy = commandExists('caddy') ? await startCaddy(vitePort, secure.home, work, cleanups) : undefined;
    if (!caddy) console.log('skip: caddy is not installed (apt-get install caddy)');

    console.log(`Vite page of ${MODULES} modules, ${rounds} rounds, fresh browser context per load`);
    const paths = [
      { name: 'direct (HTTP/1.1)', url: `http://127.0.0.1:${vitePort}/` },
      { name: 'portbroker HTTPS (h2)', url: `https://web.bench.localhost:${secure.port}/`, proxyPid: secure.pid },
      { name: 'portbroker HTTP/1.1', url: `http://web.bench.localhost:${plain.port}/`, proxyPid: plain.pid },
      ...(caddy ? [{ name: 'Caddy HTTPS (h2)', url: `https://web.bench.localhost:${caddy.port}/`, proxyPid: caddy.pid }] : []),
    ];
    const browser = await launchChromium(CHROMIUM, { env: { ...process.env, HOME: browserHome } });
    cleanups.push(browser.kill);
    // Warm-up: Vite transforms each module on its first request; every path then reads the same cache.
    for (const p of paths) await loadOnce(browser, p.url);
    const times = new Map(paths.map((p) => [p.name, []]));
    // CPU time per load (user + system) of Vite and of the proxy in the way: where a load's time goes.
    const cpu = new Map(paths.map((p) => [p.name, { vite: [], proxy: [], browser: [] }]));
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? paths : [...paths].reverse();
      for (const p of order) {
        const before = { vite: cpuMs(vite.pid), proxy: p.proxyPid ? cpuMs(p.proxyPid) : 0, browser: treeCpuMs(browser.pid) };
        const result = await loadOnce(browser, p.url);
        times.get(p.name).push(result.ms);
        cpu.get(p.name).vite.push(cpuMs(vite.pid) - before.vite);
        cpu.get(p.name).browser.push(treeCpuMs(browser.pid) - before.browser);
        if (p.proxyPid) cpu.get(p.name).proxy.push(cpuMs(p.proxyPid) - before.proxy);
        if (round === 0) p.protocol = result.protocol;
      }
    }
    await browser.close();
    const direct = median(times.get(paths[0].name));
    // A load can take no less than the CPU it costs spread over every core: when the median sits on that floor,
    // the page is bound by CPU, and a path gains only by costing less of it (a free proxy included).
    const cores = os.availableParallelism();
    const floor = (name) => {
      const { vite: viteCpu, proxy: proxyCpu, browser: browserCpu } = cpu.get(name);
      return (median(browserCpu) + median(viteCpu) + (median(proxyCpu) ?? 0)) / cores;
    };
    for (const p of paths) {
      const t = times.get(p.name);
      const { vite: viteCpu, proxy: proxyCpu, browser: browserCpu } = cpu.get(p.name);
      console.log(
        `  ${p.name.padEnd(24)} ${p.protocol?.padEnd(9)} median ${ms(median(t))}  (${ms(Math.min(...t))}–${ms(Math.max(...t))})  ${(median(t) / direct).toFixed(2)}× direct` +
          `   CPU per load: Chromium ${ms(median(browserCpu))}, Vite ${ms(median(viteCpu))}${p.proxyPid ? `, proxy ${ms(median(proxyCpu))}` : ''}` +
          `; ÷ ${cores} cores = ${ms(floor(p.name))} (${(floor(p.name) / floor(paths[0].name)).toFixed(2)}× direct's)`,
      );
    }
    console.log('  targets: HTTPS/h2 ≤ 0.90× direct; plain HTTP through portbroker ≤ 1.05× direct');
  }
}

async function smallGets(seconds, work, cleanups) {
  {

    console.log(`\nsmall GET (1 KiB) through the proxy, ${seconds} s each, interleaved over 2 rounds`);
    const upstreamPort = await freePort();
    const upstream = spawn(process.execPath, ['-e', UPSTREAM, String(upstreamPort)], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => upstream.kill('SIGKILL'));
    await waitForOutput(upstream, /ready/);
    const secure2 = await startPortbroker('https-small', true, upstreamPort, upstream.pid, work, cleanups);
    const plain2 = await startPortbroker('http-small', false, upstreamPort, upstream.pid, work, cleanups);
    const host = (t) => `web.bench.localhost:${t.port}`;
    const runs = [
      { name: 'wrk plain HTTP/1.1', run: () => wrk(`http://127.0.0.1:${plain2.port}/`, host(plain2), seconds) },
      { name: 'wrk HTTPS/1.1', run: () => wrk(`https://127.0.0.1:${secure2.port}/`, host(secure2), seconds) },
      { name: 'node plain HTTP/1.1', run: () => load({ mode: 'h1', port: plain2.port, host: host(plain2), seconds }) },
      { name: 'node HTTPS/1.1', run: () => load({ mode: 'h1s', port: secure2.port, host: host(secure2), seconds, ca: secure2.ca }) },
      { name: 'node HTTP/2', run: () => load({ mode: 'h2', port: secure2.port, host: host(secure2), seconds, ca: secure2.ca }) },
    ];
    const rps = new Map(runs.map((r) => [r.name, []]));
    for (let round = 0; round < 2; round++) for (const r of runs) rps.get(r.name).push(await r.run());
    const best = (name) => median(rps.get(name));
    for (const r of runs) {
      const base = r.name.startsWith('wrk') ? best('wrk plain HTTP/1.1') : best('node plain HTTP/1.1');
      console.log(`  ${r.name.padEnd(22)} ${String(Math.round(best(r.name))).padStart(7)} req/s  ${(best(r.name) / base).toFixed(2)}× plain (same client)`);
    }
    console.log('  target: HTTPS/1.1 with keep-alive ≥ 0.5× plain');
  }
}


/** index.html → main.js → 10 × m{i}.js → 9 × m{i}_{j}.js → 10 × m{i}_{j}_{k}.js: 1,000 modules besides main. */
function generateApp(dir) {
  mkdirSync(path.join(dir, 'src'), { recursive: true });
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>bench</title><script type="module" src="/src/main.js"></script>\n');
  writeFileSync(path.join(dir, 'vite.config.mjs'), "export default { cacheDir: '.vite-cache', logLevel: 'warn', clearScreen: false, server: { hmr: false } };\n");
  let count = 0;
  const write = (name, imports, value) => {
    count++;
    writeFileSync(path.join(dir, 'src', `${name}.js`), `${imports.map((m, i) => `import v${i} from './${m}.js';`).join('\n')}\nexport default ${value};\n`);
  };
  const top = [];
  for (let i = 0; i < 10; i++) {
    const mid = [];
    for (let j = 0; j < 9; j++) {
      const leaves = [];
      for (let k = 0; k < 10; k++) {
        write(`m${i}_${j}_${k}`, [], `${i * 100 + j * 10 + k}`);
        expectedSum += i * 100 + j * 10 + k;
        leaves.push(`m${i}_${j}_${k}`);
      }
      write(`m${i}_${j}`, leaves, leaves.map((_, n) => `v${n}`).join(' + '));
      mid.push(`m${i}_${j}`);
    }
    write(`m${i}`, mid, mid.map((_, n) => `v${n}`).join(' + '));
    top.push(`m${i}`);
  }
  if (count !== MODULES) throw new Error(`generated ${count} modules`);
  writeFileSync(path.join(dir, 'src', 'main.js'), `${top.map((m, i) => `import v${i} from './${m}.js';`).join('\n')}\nwindow.__sum = ${top.map((_, n) => `v${n}`).join(' + ')};\nwindow.__evaluatedAt = performance.now();\n`);
  symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

/** One load in a fresh browser context: ms from navigation start to main.js running (after every import evaluated). */
async function loadOnce(browser, url) {
  const [ms, sum, protocol] = await browser.load(url, 'window.__evaluatedAt === undefined ? null : [window.__evaluatedAt, window.__sum, performance.getEntries()[0].nextHopProtocol]');
  if (sum !== expectedSum) throw new Error(`${url}: the page evaluated to ${sum}, not ${expectedSum}`);
  return { ms, protocol };
}

async function startPortbroker(name, secure, upstreamPort, upstreamPid, work, cleanups) {
  const home = path.join(work, `home-${name}`);
  const port = await freePort();
  const env = { ...process.env, PORTBROKER_HOME: home, PORTBROKER_PROXY_PORT: String(port), NO_COLOR: '1', PORTBROKER_HOSTS: '0' };
  await seedBenchRoute(path.join(repo, 'dist'), home, upstreamPort, upstreamPid);
  const started = spawnSync(process.execPath, [cli, 'proxy', 'start', '--json', ...(secure ? ['--https'] : [])], { env, encoding: 'utf8' });
  if (started.status !== 0) throw new Error(`${name}: proxy start failed: ${started.stderr}`);
  const { pid } = JSON.parse(started.stdout);
  cleanups.push(() => process.kill(pid, 'SIGKILL'));
  return { port, pid, env, home, ca: secure ? readFileSync(path.join(home, 'certs', 'ca.pem'), 'utf8') : undefined };
}

/** Caddy serving `web.bench.localhost` over HTTPS (h2) with a leaf from portbroker's CA, in front of Vite. */
async function startCaddy(vitePort, portbrokerHome, work, cleanups) {
  const dir = path.join(work, 'caddy');
  mkdirSync(dir, { recursive: true });
  const { ensureAuthority } = await import(pathToFileURL(path.join(repo, 'dist', 'tls', 'authority.js')).href);
  const { createLeafKey, issueLeaf } = await import(pathToFileURL(path.join(repo, 'dist', 'tls', 'x509.js')).href);
  const leafKeyPem = await createLeafKey();
  const authority = await ensureAuthority(portbrokerHome);
  writeFileSync(path.join(dir, 'key.pem'), leafKeyPem, { mode: 0o600 });
  writeFileSync(path.join(dir, 'cert.pem'), await issueLeaf({ names: ['web.bench.localhost'], validDays: 2, authority, leafKeyPem }));
  const port = await freePort();
  const caddyfile = `{
  admin off
  auto_https disable_redirects
  skip_install_trust
  servers {
    protocols h1 h2
  }
}
https://web.bench.localhost:${port} {
  bind 127.0.0.1
  tls ${path.join(dir, 'cert.pem')} ${path.join(dir, 'key.pem')}
  reverse_proxy 127.0.0.1:${vitePort}
}
`;
  const child = await runCaddy(dir, caddyfile, port, cleanups);
  return { port, pid: child.pid };
}

/** A HOME whose NSS database trusts the proxy's CA (through `portbroker trust`, with no system store in reach). */
function trustingHome(work, env) {
  const home = path.join(work, 'browser-home');
  const nssdb = path.join(home, '.pki', 'nssdb');
  mkdirSync(nssdb, { recursive: true });
  execFileSync('certutil', ['-N', '-d', `sql:${nssdb}`, '--empty-password']);
  const noStore = path.join(work, 'no-system-store');
  mkdirSync(noStore);
  execFileSync(process.execPath, [cli, 'trust'], { env: { ...env, HOME: home, PORTBROKER_TRUST_ROOT: noStore }, stdio: 'ignore' });
  return home;
}

function wrk(url, host, seconds) {
  const out = execFileSync('wrk', ['-t1', '-c50', `-d${seconds}s`, '-H', `Host: ${host}`, url], { encoding: 'utf8' });
  const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(out);
  if (errors) console.log(`  ${url}: ${errors[0]}`);
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
}

/** The Node load client in a process of its own (it must not share this one's event loop). */
function load(options) {
  const result = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--load', JSON.stringify(options)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return Number(result.stdout.trim());
}

/** Keeps 50 requests in flight for `seconds`: over 50 keep-alive connections (h1) or one HTTP/2 session (h2). */
async function runLoadClient({ mode, port, host, seconds, ca }) {
  const inFlight = 50;
  const servername = host.replace(/:\d+$/, '');
  let done = 0;
  let failed = 0;
  const until = Date.now() + seconds * 1000;
  let one;
  if (mode === 'h2') {
    const session = http2.connect(`https://127.0.0.1:${port}`, { servername, ca });
    await new Promise((resolve) => session.once('remoteSettings', resolve));
    one = () =>
      new Promise((resolve) => {
        const stream = session.request({ ':path': '/', ':authority': host });
        stream.on('response', (h) => h[':status'] !== 200 && failed++);
        stream.resume();
        stream.on('end', resolve);
        stream.on('error', () => (failed++, resolve()));
      });
    cleanupAfter(() => session.close());
  } else {
    const lib = mode === 'h1s' ? https : http;
    const agent = new lib.Agent({ keepAlive: true, maxSockets: inFlight, ...(mode === 'h1s' ? { ca, servername } : {}) });
    one = () =>
      new Promise((resolve) => {
        const req = lib.request({ host: '127.0.0.1', port, path: '/', headers: { host }, agent, ...(mode === 'h1s' ? { servername, ca } : {}) }, (res) => {
          if (res.statusCode !== 200) failed++;
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', () => (failed++, resolve()));
        req.end();
      });
    cleanupAfter(() => agent.destroy());
  }
  const started = Date.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (Date.now() < until) {
        await one();
        done++;
      }
    }),
  );
  const elapsed = (Date.now() - started) / 1000;
  if (failed) process.stderr.write(`  ${mode}: ${failed} failed\n`);
  process.stdout.write(`${done / elapsed}\n`);
  runCleanups();
}

function cleanupAfter(fn) {
  afterLoad.push(fn);
}
function runCleanups() {
  for (const fn of afterLoad) fn();
}





function ms(value) {
  return `${Math.round(value)} ms`;
}

/** Until something accepts connections on 127.0.0.1:port (Vite at logLevel warn prints nothing when ready). */
async function waitForPort(port, child) {
  let exited = false;
  child.once('exit', () => (exited = true));
  for (;;) {
    if (exited) throw new Error(`${path.basename(child.spawnfile)} exited before it listened`);
    const open = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await sleep(100);
  }
}

function waitForOutput(child, pattern) {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (d) => {
      seen += d;
      if (pattern.test(seen)) resolve();
    };
    child.stdout.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited (${code}) before it was ready:\n${seen}`)));
  });
}


/** CPU time a process has used so far (user + system), in ms. */
function cpuMs(pid) {
  return (cpuTicks(pid) * 1000) / ticksPerSecond();
}

/** CPU used so far by a process and its descendants (reaped ones included): the browser's, all its processes. */
function treeCpuMs(root) {
  return (treeCpuTicks(root, { reaped: true }) * 1000) / ticksPerSecond();
}
