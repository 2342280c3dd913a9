#!/usr/bin/env node
// The dashboard's cost to the proxy it lives in: wrk (-t1 -c50, keep-alive GETs of 1 KiB) through the proxy to a
// service, with and without the dashboard open in Chromium while the logs of 20 services, each written at 1,000
// lines/s by the runner's own LogFile, stream to followers (20 SSE streams) — the page left open, measured once its
// log has followed for a few seconds, not while it opens — in interleaved rounds (A B B A …),
// same run, same proxy; Chromium driven over the DevTools pipe with no domain enabled, as a user's browser runs
// (bench/chromium.mjs). Beside the throughput, the CPU the proxy's event loop (its main thread; the log streams are
// read on a thread of their own) spends per forwarded request, with and without. Then the page's memory (JS heap
// and DOM nodes, through the DevTools protocol) while its log panel follows a 1,000 lines/s log for
// BENCH_PAGE_SECONDS.
//
// Then the same CPU without wrk (the cost itself, less noisy), and a machine with BENCH_MANY (200) services, each a
// process of its own: how long a state change takes to show on the page, and what the open page costs the proxy
// (CPU, and the latency of requests it forwards meanwhile).
//
//   npm run bench -- dashboard     BENCH_SECONDS=3 BENCH_ROUNDS=20 BENCH_PAGE_SECONDS=60 BENCH_MANY=200 by default
//                                  (BENCH_PAGE_SECONDS=300: the page's memory over five minutes)
//
// Needs wrk and Chromium (/usr/bin/chromium); binds 127.0.0.1 only.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { launchChromium } from './chromium.mjs';
import { benchRun, commandExists, cpuTicks, freePort, median, threadTicks, treeCpuTicks } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const cli = path.join(repo, 'dist', 'cli', 'main.js');
const SERVICES = 20;
const LINES_PER_SECOND = 1000;
const CHROMIUM = '/usr/bin/chromium';
const SETTLE_SECONDS = 3;

const mode = process.argv[2];
if (mode === '--upstream') runUpstream(Number(process.argv[3]));
else if (mode === '--writer') await runWriter(process.argv[3]);
else if (mode === '--followers') runFollowers(Number(process.argv[3]), Number(process.argv[4] ?? SERVICES));
else await main();

/** The service under the proxy: 1 KiB keep-alive responses. */
function runUpstream(port) {
  const body = Buffer.alloc(1024, 'x');
  const server = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length }).end(body));
  server.keepAliveTimeout = 60_000;
  server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
}

/** 20 services' output, as the runner writes it: the real LogFile (batched appends, rotation at 1 MB). */
async function runWriter(home) {
  const { LogFile } = await import(pathToFileURL(path.join(repo, 'dist', 'runner', 'log-file.js')).href);
  const { serviceLogFile } = await import(pathToFileURL(path.join(repo, 'dist', 'platform', 'paths.js')).href);
  const files = Array.from({ length: SERVICES }, (_, i) => new LogFile(serviceLogFile(home, 'bench', '', `svc${i}`)));
  let n = 0;
  const start = Date.now();
  setInterval(() => {
    // Catch up to the wall clock: 1,000 lines a second per service whatever the timer's jitter.
    const due = Math.floor(((Date.now() - start) / 1000) * LINES_PER_SECOND);
    for (; n < due; n++) {
      for (let i = 0; i < SERVICES; i++) files[i].line(`svc${i} GET /api/items/${n} 200 in ${n % 97} ms \u001b[32mok\u001b[0m request-id=${n.toString(36)}`);
    }
  }, 10);
  process.stdout.write('ready\n');
}

const TEXT_FIELD = Buffer.from('"text":');

/** Follows every service's log over SSE, as open dashboards would; prints the lines received each second. */
function runFollowers(port, count = SERVICES) {
  let lines = 0;
  // One read buffer for every socket, used again by each read (`onread`): no allocation per read, nothing to collect.
  const buffer = Buffer.allocUnsafe(256 * 1024);
  for (let i = 0; i < count; i++) {
    // A bare socket, its bytes counted as they come, neither decoded nor parsed (HTTP framing included: it holds no
    // `"text":`): this process shares the machine with wrk, and its cost must not pass for the proxy's. (A count
    // split across two reads is missed: a figure, not a check.)
    const socket = net.connect({
      port,
      host: '127.0.0.1',
      onread: {
        buffer,
        callback: (size, chunk) => {
          const read = chunk.subarray(0, size);
          for (let at = read.indexOf(TEXT_FIELD); at !== -1; at = read.indexOf(TEXT_FIELD, at + TEXT_FIELD.length)) lines++;
        },
      },
    });
    socket.once('connect', () => socket.write(`GET /api/v1/services/bench/svc${i}/logs?n=0&follow=1 HTTP/1.1\r\nHost: portbroker.localhost:${port}\r\n\r\n`));
    socket.on('error', (error) => process.stderr.write(`follower ${i}: ${error.message}\n`));
  }
  setInterval(() => {
    process.stdout.write(`${lines}\n`);
    lines = 0;
  }, 1000);
}

async function main() {
  const seconds = Number(process.env.BENCH_SECONDS ?? 3);
  // One round's ratio moves by ±15% on these 2 shared cores (an A/A run, nothing opened, gave 0.95–1.04 as the median
  // of 10): 20 rounds put the median within about ±3%.
  const rounds = Number(process.env.BENCH_ROUNDS ?? 20);
  const pageSeconds = Number(process.env.BENCH_PAGE_SECONDS ?? 60);
  const manyServices = Number(process.env.BENCH_MANY ?? 200);
  if (!commandExists('wrk')) return console.log('skip: wrk is not installed (apt-get install wrk)');
  if (!existsSync(CHROMIUM)) return console.log(`skip: no Chromium at ${CHROMIUM} (apt-get install chromium)`);

  const { work, cleanups, cleanup } = benchRun('pb-bench-dashboard-');
  const home = path.join(work, 'home');

  try {
    const upstreamPort = await freePort();
    const upstream = child(['--upstream', String(upstreamPort)], cleanups);
    await firstLine(upstream);
    const writer = child(['--writer', home], cleanups);
    await firstLine(writer);

    const { updateRegistry } = await import(pathToFileURL(path.join(repo, 'dist', 'ports', 'registry.js')).href);
    await updateRegistry(home, (data) => {
      const record = (port, pid) => ({ port, proxy: true, hostnames: [], state: 'running', pid, reservedAt: new Date().toISOString() });
      const services = { web: record(upstreamPort, upstream.pid) };
      for (let i = 0; i < SERVICES; i++) services[`svc${i}`] = record(62000 + i, writer.pid);
      data.checkouts['/bench'] = { project: 'bench', label: '', root: '/bench', services };
    });
    const port = await freePort();
    const env = { ...process.env, PORTBROKER_HOME: home, PORTBROKER_PROXY_PORT: String(port), NO_COLOR: '1', PORTBROKER_HOSTS: '0' };
    const started = spawnSync(process.execPath, [cli, 'proxy', 'start', '--json'], { env, encoding: 'utf8' });
    if (started.status !== 0) throw new Error(`proxy start failed: ${started.stderr}`);
    const proxyPid = JSON.parse(started.stdout).pid;
    cleanups.push(() => process.kill(proxyPid, 'SIGKILL'));

    const dashboard = `http://portbroker.localhost:${port}/`;
    // The throughput and CPU phases drive Chromium over the DevTools pipe with no domain enabled (bench/chromium.mjs):
    // Playwright's Network domain would turn each of the page's stream messages into a protocol event for this
    // process, a cost no user's browser has. The memory and 200-service phases need Playwright's page API.
    const bare = await launchChromium(CHROMIUM);
    cleanups.push(() => bare.kill());

    /** The dashboard open with svc0's log following, and 20 log streams; resolves once lines have flowed a while. */
    const open = async () => {
      const followers = child(['--followers', String(port)], cleanups);
      const delivered = [];
      followers.stdout.setEncoding('utf8').on('data', (d) => delivered.push(...d.trim().split('\n').map(Number)));
      const tab = await bare.open(dashboard);
      const until = async (expression, what) => {
        for (const end = Date.now() + 60_000; !(await tab.evaluate(expression)); await sleep(100)) {
          if (Date.now() > end) throw new Error(`the dashboard: ${what} did not happen within 60 s`);
        }
      };
      const button = `document.querySelector('tr[data-service="bench/svc0"] td.service button')`;
      await until(`${button} !== null`, 'the services listed');
      await tab.evaluate(`${button}.click()`);
      await until(`Number(/following · (\\d+) lines/.exec(document.getElementById('log-status').textContent)?.[1]) > 100`, 'lines arriving');
      // A dashboard left open, not one being opened: the tab's start (its scripts compiled, the first table and log
      // laid out) would land in the measured seconds, which are few. Lines flow for SETTLE_SECONDS first.
      const flowing = delivered.length;
      while (delivered.length < flowing + SETTLE_SECONDS) {
        if (followers.exitCode !== null) throw new Error('the log followers failed');
        await sleep(100);
      }
      return { delivered, followers, close: async () => (followers.kill('SIGKILL'), await tab.close()) };
    };

    console.log(`wrk -t1 -c50 -d${seconds}s through the proxy; ${SERVICES} services logging ${LINES_PER_SECOND} lines/s each throughout;`);
    console.log(`"open": the dashboard in Chromium following one log, plus ${SERVICES} SSE log streams; ${rounds} rounds, A B B A order`);
    await wrk(port, 1);
    const without = [];
    const withDashboard = [];
    const linesPerSecond = [];
    const cpu = { without: [], with: [] };
    /** The proxy's event loop (its main thread: the log streams are read on another) per forwarded request, µs. */
    const loopPerRequest = { without: [], with: [] };
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? ['without', 'with'] : ['with', 'without'];
      for (const which of order) {
        const session = which === 'with' ? await open() : undefined;
        // As long a pause before either: a tab just closed has ended by the time a "without" run starts.
        if (!session) await sleep(SETTLE_SECONDS * 1000);
        const mark = session?.delivered.length ?? 0;
        const before = cpuTicks(proxyPid);
        const loopBefore = threadTicks(proxyPid);
        const result = await wrk(port, seconds);
        cpu[which].push(((cpuTicks(proxyPid) - before) / 100 / seconds) * 100);
        loopPerRequest[which].push(((threadTicks(proxyPid) - loopBefore) / 100 / (result * seconds)) * 1e6);
        if (session) {
          linesPerSecond.push(median(session.delivered.slice(mark)));
          await session.close();
        }
        (which === 'with' ? withDashboard : without).push(result);
      }
      process.stdout.write(`  round ${round + 1}/${rounds}: without ${without.at(-1).toFixed(0)} req/s, with ${withDashboard.at(-1).toFixed(0)} req/s\n`);
    }
    const a = median(without);
    const b = median(withDashboard);
    // Other work on the machine moves both figures by several times within a minute: each round's two runs are
    // side by side, so the median of the rounds' own ratios is the steadier estimate.
    const ratios = withDashboard.map((w, i) => w / without[i]).sort((x, y) => x - y);
    const paired = median(ratios);
    const quartile = (q) => ratios[Math.min(ratios.length - 1, Math.floor(q * ratios.length))];
    console.log('');
    console.log(`proxy throughput without the dashboard: ${a.toFixed(0)} req/s (proxy CPU ${median(cpu.without).toFixed(0)}% of a core)`);
    console.log(`proxy throughput with it open:          ${b.toFixed(0)} req/s (proxy CPU ${median(cpu.with).toFixed(0)}% of a core)`);
    const loopRatio = median(loopPerRequest.with.map((w, i) => w / loopPerRequest.without[i]));
    console.log(`the proxy's event loop per forwarded request: ${median(loopPerRequest.without).toFixed(1)} µs without, ${median(loopPerRequest.with).toFixed(1)} µs with (paired ratio ${loopRatio.toFixed(3)})`);
    console.log(`log lines delivered to the streams: ${median(linesPerSecond)} /s (of ${SERVICES * LINES_PER_SECOND} written)`);
    console.log(`ratio with/without: ${paired.toFixed(3)} (median of the rounds' ratios; target ≥ 0.95) ${paired >= 0.95 ? 'ok' : 'MISSED'}; middle half of the rounds ${quartile(0.25).toFixed(2)}–${quartile(0.75).toFixed(2)}; ratio of the medians ${(b / a).toFixed(3)}`);

    // The cost itself, without wrk in the way: CPU over `seconds` with the dashboard closed, then open.
    const atRest = {};
    for (const which of ['without', 'with']) {
      const session = which === 'with' ? await open() : undefined;
      const before = { proxy: cpuTicks(proxyPid), chromium: chromiumTicks(), followers: session ? cpuTicks(session.followers.pid) : 0 };
      await sleep(seconds * 1000);
      atRest[which] = { proxy: (cpuTicks(proxyPid) - before.proxy) / seconds, chromium: (chromiumTicks() - before.chromium) / seconds, followers: session ? (cpuTicks(session.followers.pid) - before.followers) / seconds : 0 };
      await session?.close();
    }
    await bare.close();
    console.log(`CPU at rest (no wrk), % of a core: proxy ${atRest.without.proxy.toFixed(1)} closed, ${atRest.with.proxy.toFixed(1)} open; Chromium ${atRest.without.chromium.toFixed(1)} closed, ${atRest.with.chromium.toFixed(1)} open; the ${SERVICES} streams' reader ${atRest.with.followers.toFixed(1)}`);

    const { chromium } = await import(pathToFileURL(path.join(repo, 'node_modules', 'playwright-core', 'index.mjs')).href);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
    cleanups.push(() => void browser.close());
    const page = await browser.newPage();
    if (manyServices > 0) await many(manyServices, { home, port, proxyPid, page, dashboard, cleanups });

    if (pageSeconds > 0) {
      console.log(`\nthe page following svc0's log (${LINES_PER_SECOND} lines/s) for ${pageSeconds} s:`);
      await page.goto(dashboard);
      await page.click('tr[data-service="bench/svc0"] td.service button');
      const cdp = await page.context().newCDPSession(page);
      await cdp.send('Performance.enable');
      const samples = [];
      const started = Date.now();
      for (;;) {
        await cdp.send('HeapProfiler.collectGarbage');
        const { metrics } = await cdp.send('Performance.getMetrics');
        const metric = (name) => metrics.find((m) => m.name === name)?.value ?? 0;
        const sample = { at: Math.round((Date.now() - started) / 1000), heapMiB: metric('JSHeapUsedSize') / 1024 / 1024, nodes: metric('Nodes') };
        samples.push(sample);
        console.log(`  ${String(sample.at).padStart(4)} s  JS heap ${sample.heapMiB.toFixed(1)} MiB  DOM nodes ${sample.nodes}`);
        if (Date.now() - started >= pageSeconds * 1000) break;
        await sleep(Math.min(30_000, pageSeconds * 1000 - (Date.now() - started)));
      }
      const received = await page.textContent('#log-status');
      const rest = samples.slice(1);
      console.log(`  ${received}`);
      console.log(`  heap after the first sample: ${Math.min(...rest.map((s) => s.heapMiB)).toFixed(1)}–${Math.max(...rest.map((s) => s.heapMiB)).toFixed(1)} MiB; DOM nodes ${Math.min(...rest.map((s) => s.nodes))}–${Math.max(...rest.map((s) => s.nodes))}`);
    }
  } finally {
    cleanup();
  }
}

/**
 * BENCH_MANY services in a second project, each a process in a group of its own as `up` starts them: the time a
 * registry change takes to reach the open page, and what that page costs the proxy (CPU; latency of forwarded
 * requests, where a long synchronous pass over /proc would show).
 */
async function many(count, { home, port, proxyPid, page, dashboard, cleanups }) {
  console.log(`\n${count} services (a process each), the page open on all of them:`);
  const { updateRegistry } = await import(pathToFileURL(path.join(repo, 'dist', 'ports', 'registry.js')).href);
  const sleepers = Array.from({ length: count }, () => {
    const proc = spawn('sleep', ['3600'], { detached: true, stdio: 'ignore' });
    cleanups.push(() => process.kill(-proc.pid, 'SIGKILL'));
    return proc;
  });
  const record = (i) => ({ port: 63000 + i, proxy: true, hostnames: [], state: 'running', pid: sleepers[i].pid, reservedAt: new Date().toISOString(), command: 'sleep 3600' });
  await updateRegistry(home, (data) => {
    const services = {};
    for (let i = 0; i < count; i++) services[`s${String(i).padStart(3, '0')}`] = record(i);
    data.checkouts['/many'] = { project: 'many', label: '', root: '/many', ownerPid: process.pid, services };
  });

  const latency = async () => {
    const out = await new Promise((resolve, reject) => {
      const proc = spawn('wrk', ['-t1', '-c10', '-d5s', '--latency', '-H', `Host: web.bench.localhost:${port}`, `http://127.0.0.1:${port}/`]);
      let text = '';
      proc.stdout.on('data', (d) => (text += d));
      proc.once('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`wrk failed: ${text}`))));
    });
    const ms = (re) => {
      const [, n, unit] = re.exec(out) ?? [];
      return n === undefined ? NaN : Number(n) * ({ us: 0.001, ms: 1, s: 1000 }[unit] ?? NaN);
    };
    return { p99: ms(/99%\s+([\d.]+)(us|ms|s)/), max: ms(/Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)/) };
  };
  // The proxy's own event-loop delay (GET /api/v1/proxy), read every second while wrk runs: a long synchronous
  // pass shows in the worst figure whatever else the machine is doing.
  const loopDelay = async (during) => {
    const readings = [];
    let done = false;
    const result = during.finally(() => (done = true));
    while (!done) {
      await sleep(1000);
      const view = await getJson(port, '/api/v1/proxy');
      if (view.eventLoopDelayMs) readings.push(view.eventLoopDelayMs);
    }
    return { result: await result, p99: median(readings.map((r) => r.p99)), max: Math.max(...readings.map((r) => r.max)) };
  };
  await getJson(port, '/api/v1/proxy');
  const closed = { ticks: cpuTicks(proxyPid), ...(await loopDelay(latency())) };
  closed.cpu = (cpuTicks(proxyPid) - closed.ticks) / 5;

  const t0 = Date.now();
  await page.goto(dashboard);
  await page.waitForFunction((n) => document.querySelectorAll('tr[data-service^="many/"]').length === n, count, { timeout: 60_000 });
  const firstPaint = Date.now() - t0;
  const open = { ticks: cpuTicks(proxyPid), chromium: chromiumTicks(), ...(await loopDelay(latency())) };
  open.cpu = (cpuTicks(proxyPid) - open.ticks) / 5;
  open.chromiumCpu = (chromiumTicks() - open.chromium) / 5;

  // A service crashes and comes back, five times: from the registry write to the page showing it.
  const shown = [];
  for (let round = 0; round < 5; round++) {
    const name = `s${String(round * 37).padStart(3, '0')}`;
    for (const state of ['crashed', 'running']) {
      const at = Date.now();
      await updateRegistry(home, (data) => void (data.checkouts['/many'].services[name].state = state));
      await page.waitForFunction(([key, want]) => document.querySelector(`tr[data-service="${key}"] td.state`)?.textContent === want, [`many/${name}`, state], { timeout: 30_000 });
      shown.push(Date.now() - at);
    }
  }
  await page.goto('about:blank');
  console.log(`  the page listed all ${count} in ${firstPaint} ms; a state change reached it in ${median(shown)} ms (median of ${shown.length}, max ${Math.max(...shown)})`);
  console.log(`  proxy CPU ${closed.cpu.toFixed(1)}% of a core with the page closed, ${open.cpu.toFixed(1)}% open (under wrk -c10); Chromium ${open.chromiumCpu.toFixed(1)}%`);
  console.log(`  forwarded requests' latency p99 ${closed.result.p99.toFixed(1)} ms closed, ${open.result.p99.toFixed(1)} ms open; max ${closed.result.max.toFixed(1)} / ${open.result.max.toFixed(1)} ms`);
  console.log(`  the proxy's event-loop delay p99 ${closed.p99} ms closed, ${open.p99} ms open (median of 1 s readings); worst ${closed.max} / ${open.max} ms`);
  for (const proc of sleepers) process.kill(-proc.pid, 'SIGKILL');
  await updateRegistry(home, (data) => void delete data.checkouts['/many']);
}

function getJson(port, p) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: p, headers: { host: `portbroker.localhost:${port}` }, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d) => (body += d));
        res.on('end', () => resolve(JSON.parse(body)));
      })
      .on('error', reject);
  });
}


function child(args, cleanups) {
  const proc = spawn(process.execPath, [fileURLToPath(import.meta.url), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(() => proc.kill('SIGKILL'));
  return proc;
}

function firstLine(proc) {
  return new Promise((resolve, reject) => {
    proc.stdout.once('data', resolve);
    proc.once('exit', (code) => reject(new Error(`${proc.spawnargs.join(' ')} exited (${code})`)));
  });
}

/** wrk in its own process, without blocking this one. */
function wrk(port, seconds) {
  return new Promise((resolve, reject) => {
    const proc = spawn('wrk', ['-t1', '-c50', `-d${seconds}s`, '-H', `Host: web.bench.localhost:${port}`, `http://127.0.0.1:${port}/`]);
    let out = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.once('exit', (code) => (code === 0 ? resolve(Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1])) : reject(new Error(`wrk failed: ${out}`))));
  });
}


/** CPU ticks of every Chromium process this benchmark started (the browser, its renderers, GPU and network). */
function chromiumTicks() {
  return treeCpuTicks(process.pid, { match: (comm) => comm.startsWith('chrom') });
}
