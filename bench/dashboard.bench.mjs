#!/usr/bin/env node
// The dashboard's cost to the proxy it lives in: wrk (-t1 -c50, keep-alive GETs of 1 KiB) through the proxy to a
// service, with and without the dashboard open while 20 services each log 1,000 lines/s (written by the runner's own
// LogFile) and all 20 logs stream, in interleaved rounds (A B, B A, …), same run, same proxy. "Open", the verdict's
// case: the page open in Chromium following svc0's log, and the other 19 logs streamed as 19 more open pages stream
// them (the page's own view, `latest=24`: the newest 24 lines about once a second, the rest counted), by a process of
// this bench reading 19 SSE streams. The proxy still reads all 20,000 lines a second. Each measured once the page's
// log has followed for a few seconds, not while it opens. Chromium driven over the DevTools pipe with no domain
// enabled, as a user's browser runs (bench/chromium.mjs). Beside the throughput, the CPU the proxy's event loop (its
// main thread; the log streams are read on a thread of their own) spends per forwarded request, with and without.
// The verdict is the mean of the rounds' with/without ratios, printed with its 95% interval.
//
// First the cost itself without wrk: the CPU the open dashboard takes at rest (the proxy's part, Chromium's, and the
// 19 streams' clients', a process of this bench). BENCH_CASES (comma-separated) adds cases to the rounds, printed
// beside the verdict, not in it:
// - every: the same page, and 20 streams that take every line (20,000 lines/s out, as 20 `curl`s of the API's
//   `follow=1` would), a harder load than any number of open pages makes;
// - control: a plain process that burns as much CPU as the dashboard at rest and does nothing else. On 2 shared
//   cores a fixed amount of CPU weighs more when the host gives the machine less (a plain 5% of a core gave
//   control/without 0.985 in one run and 0.924 in another): the control, in the same rounds, says how much of a run's
//   ratio is the host's and how much the dashboard's own.
//
// Then a machine with BENCH_MANY (200) services, each a process of its own (bench/dashboard-many.mjs): how long a
// state change takes to show on the page, and what the open page costs the proxy (CPU, and the latency of requests
// it forwards meanwhile); and the page's memory (JS heap and DOM nodes, through the DevTools protocol) while its log
// panel follows a 1,000 lines/s log for BENCH_PAGE_SECONDS.
//
//   npm run bench -- dashboard     BENCH_SECONDS=10 BENCH_ROUNDS=24 BENCH_PAGE_SECONDS=60 BENCH_MANY=200 by default
//                                  (BENCH_PAGE_SECONDS=300: the page's memory over five minutes;
//                                  BENCH_CASES=every,control: the two other cases)
//
// Needs wrk and Chromium (/usr/bin/chromium); binds 127.0.0.1 only.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { launchChromium } from './chromium.mjs';
import { many } from './dashboard-many.mjs';
import { benchRun, commandExists, cpuTicks, freePort, median, percentOfCore, runWrk, seedBenchRoute, threadTicks, ticksPerSecond, treeCpuTicks } from './lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..');
const cli = path.join(repo, 'dist', 'cli', 'main.js');
const SERVICES = 20;
const LINES_PER_SECOND = 1000;
const CHROMIUM = '/usr/bin/chromium';
const SETTLE_SECONDS = 3;
/**
 * The page's view of a followed log: the newest TAIL_LINES about once a second (src/dashboard/client/log-view.js).
 * Read by `main` alone: the bench's child modes have no use for it.
 */
function readPageLines() {
  const lines = Number(/const TAIL_LINES = (\d+);/.exec(readFileSync(path.join(repo, 'src', 'dashboard', 'client', 'log-view.js'), 'utf8'))?.[1]);
  if (!(lines > 0)) throw new Error('bench/dashboard.bench.mjs: no TAIL_LINES in src/dashboard/client/log-view.js: update readPageLines');
  return lines;
}
/**
 * The log streams of each case beside the open page (which follows svc0): the other services' in the page's view
 * (its newest `pageLines`), or every service's, every line.
 */
function logStreams(pageLines) {
  return {
    with: { first: 1, count: SERVICES - 1, view: `&latest=${pageLines}` },
    every: { first: 0, count: SERVICES, view: '' },
  };
}
/** Student's t, 97.5th percentile, for 1–9 degrees of freedom (`meanInterval`). */
const T_975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262];
/** How the rounds' lines name each case. */
const CASE_NAMES = { without: 'without', with: 'open', every: 'every line', control: 'control' };
/** The at-rest CPU sets the control's load: long enough for a steady figure (/proc counts in 1/CLK_TCK, 10 ms). */
const AT_REST_SECONDS = 10;

const mode = process.argv[2];
if (mode === '--upstream') runUpstream(Number(process.argv[3]));
else if (mode === '--writer') await runWriter(process.argv[3]);
else if (mode === '--followers') runFollowers(Number(process.argv[3]), Number(process.argv[4]), Number(process.argv[5]), process.argv[6] ?? '');
else if (mode === '--load') runLoad(Number(process.argv[3]));
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
/** In `event: skipped` alone: a line's text is a JSON string, its quotes escaped. */
const LEFT_OUT_FIELD = Buffer.from('"lines":');

/**
 * Follows `count` services' logs over SSE (from svc<first>), in `view` (URL parameters: `&latest=24`, the page's);
 * prints each second the lines the streams stood for: those received, and those a `latest` view counted as left out.
 */
function runFollowers(port, first, count, view) {
  let lines = 0;
  // One read buffer for every socket, used again by each read (`onread`): no allocation per read, nothing to collect.
  const buffer = Buffer.allocUnsafe(256 * 1024);
  for (let i = 0; i < count; i++) {
    // A bare socket, its bytes counted as they come, neither decoded nor parsed (HTTP framing included: it holds no
    // `"text":`): this process shares the machine with wrk, and its cost must not pass for the proxy's. (A count
    // split across two reads is missed: a figure, not a check.)
    const service = first + i;
    const socket = net.connect({
      port,
      host: '127.0.0.1',
      onread: {
        buffer,
        callback: (size, chunk) => {
          const read = chunk.subarray(0, size);
          for (let at = read.indexOf(TEXT_FIELD); at !== -1; at = read.indexOf(TEXT_FIELD, at + TEXT_FIELD.length)) lines++;
          for (let at = read.indexOf(LEFT_OUT_FIELD); at !== -1; at = read.indexOf(LEFT_OUT_FIELD, at + 1)) {
            let n = 0;
            for (let j = at + LEFT_OUT_FIELD.length; read[j] >= 48 && read[j] <= 57; j++) n = n * 10 + read[j] - 48;
            lines += n;
          }
        },
      },
    });
    socket.once('connect', () => socket.write(`GET /api/v1/services/bench/svc${service}/logs?n=0&follow=1${view} HTTP/1.1\r\nHost: portbroker.localhost:${port}\r\n\r\n`));
    socket.on('error', (error) => process.stderr.write(`follower ${service}: ${error.message}\n`));
  }
  setInterval(() => {
    process.stdout.write(`${lines}\n`);
    lines = 0;
  }, 1000);
}

/**
 * The control: `percent` of one core burnt in slices of a millisecond or so every 20 ms, and nothing else — CPU
 * taken from the machine as the open dashboard takes it, without its sockets, threads or pages.
 */
function runLoad(percent) {
  const PERIOD_MS = 20;
  const busy = (PERIOD_MS * percent) / 100;
  setInterval(() => {
    for (const end = performance.now() + busy; performance.now() < end; );
  }, PERIOD_MS);
  process.stdout.write('ready\n');
}

async function main() {
  // A run's throughput moves by ~6% (sd) from one second to the next on these 2 cores, little of it carried to the
  // next second (lag-1 autocorrelation ~0.35) and none of it steal: three single-threaded stages (wrk, the proxy,
  // the service) scheduled on two vCPUs. A 5 s run's varies by ~3.3%, a 10 s run's by ~2.7%, so the precision of a
  // verdict comes from the seconds measured in all. By default only the verdict's two cases run, 10 s each, in 24
  // rounds: 240 s of each, where 20 rounds of four 5 s cases gave 100. BENCH_CASES=every,control adds the others.
  const rounds = Number(process.env.BENCH_ROUNDS ?? 24);
  const seconds = Number(process.env.BENCH_SECONDS ?? 10);
  const pageSeconds = Number(process.env.BENCH_PAGE_SECONDS ?? 60);
  const manyServices = Number(process.env.BENCH_MANY ?? 200);
  for (const [name, value, least] of [['BENCH_ROUNDS', rounds, 0], ['BENCH_SECONDS', seconds, 1]]) {
    if (!Number.isInteger(value) || value < least) {
      console.error(`${name}: "${process.env[name]}" is not a whole number of at least ${least}`);
      process.exitCode = 2;
      return;
    }
  }
  const extra = (process.env.BENCH_CASES ?? '').split(',').map((name) => name.trim()).filter(Boolean);
  const unknown = extra.find((name) => name !== 'every' && name !== 'control');
  if (unknown) {
    console.error(`BENCH_CASES: no case called "${unknown}": the cases beside the verdict's are every and control (comma-separated)`);
    process.exitCode = 2;
    return;
  }
  const cases = ['without', 'with', ...new Set(extra)];
  const pageLines = readPageLines();
  const streams = logStreams(pageLines);
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

    const logging = Array.from({ length: SERVICES }, (_, i) => [`svc${i}`, { port: 62000 + i, pid: writer.pid }]);
    await seedBenchRoute(path.join(repo, 'dist'), home, upstreamPort, upstream.pid, Object.fromEntries(logging));
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

    /** The dashboard open with svc0's log following, and the `kind` of log streams; resolves once lines have flowed a while. */
    const open = async (kind) => {
      const { first, count, view } = streams[kind];
      const followers = child(['--followers', String(port), String(first), String(count), view], cleanups);
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

    // The cost itself, without wrk in the way: CPU over AT_REST_SECONDS with the dashboard closed, then open. Once
    // opened and closed first: Chromium's own start (seconds of CPU after launch) must not pass for its rest.
    await (await open('with')).close();
    await sleep(SETTLE_SECONDS * 1000);
    const atRest = {};
    for (const which of ['without', 'with']) {
      const session = which === 'with' ? await open('with') : undefined;
      const before = { proxy: cpuTicks(proxyPid), chromium: chromiumTicks(), followers: session ? cpuTicks(session.followers.pid) : 0 };
      await sleep(AT_REST_SECONDS * 1000);
      const rate = (ticks) => percentOfCore(ticks, AT_REST_SECONDS);
      atRest[which] = { proxy: rate(cpuTicks(proxyPid) - before.proxy), chromium: rate(chromiumTicks() - before.chromium), followers: session ? rate(cpuTicks(session.followers.pid) - before.followers) : 0 };
      await session?.close();
    }
    const cost = Math.max(0, atRest.with.proxy - atRest.without.proxy) + Math.max(0, atRest.with.chromium - atRest.without.chromium) + atRest.with.followers;
    console.log(`CPU at rest (no wrk, ${AT_REST_SECONDS} s), % of a core: proxy ${atRest.without.proxy.toFixed(1)} closed, ${atRest.with.proxy.toFixed(1)} open; Chromium ${atRest.without.chromium.toFixed(1)} closed, ${atRest.with.chromium.toFixed(1)} open; the ${streams.with.count} streams' clients ${atRest.with.followers.toFixed(1)}: the open dashboard takes ${cost.toFixed(1)}`);

    // BENCH_ROUNDS=0: only the other phases.
    if (rounds > 0) {
      const has = (which) => cases.includes(which);
      console.log(`\nwrk -t1 -c50 -d${seconds}s through the proxy; ${SERVICES} services logging ${LINES_PER_SECOND} lines/s each throughout;`);
      console.log(`"open": the dashboard in Chromium following svc0's log, the other ${streams.with.count} logs streamed as open pages stream them (latest=${pageLines});`);
      if (has('every')) console.log(`"every line": the same page, and ${streams.every.count} streams taking every line (follow=1);`);
      if (has('control')) console.log(`"control": a process burning ${cost.toFixed(1)}% of a core;`);
      console.log(`${rounds} rounds, each case once, the order reversed every other round`);
      await wrk(port, 1);
      const runs = Object.fromEntries(cases.map((which) => [which, []]));
      const linesPerSecond = { with: [], every: [] };
      const cpu = { without: [], with: [], every: [] };
      /** The proxy's event loop (its main thread: the log streams are read on another) per forwarded request, µs. */
      const loopPerRequest = { without: [], with: [], every: [] };
      const controlCpu = [];
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 1 ? [...cases].reverse() : cases;
        for (const which of order) {
          const session = streams[which] ? await open(which) : undefined;
          const load = which === 'control' ? child(['--load', cost.toFixed(2)], cleanups) : undefined;
          if (load) await firstLine(load);
          // As long a pause before the others: a tab just closed has ended by the time the next run starts.
          if (!session) await sleep(SETTLE_SECONDS * 1000);
          const mark = session?.delivered.length ?? 0;
          const before = cpuTicks(proxyPid);
          const loopBefore = threadTicks(proxyPid);
          const loadBefore = load ? cpuTicks(load.pid) : 0;
          const result = await wrk(port, seconds);
          // The control's own figures are its ratios: what it costs the proxy is what it takes from the machine.
          cpu[which]?.push(percentOfCore(cpuTicks(proxyPid) - before, seconds));
          loopPerRequest[which]?.push(((threadTicks(proxyPid) - loopBefore) / ticksPerSecond() / (result * seconds)) * 1e6);
          if (load) {
            controlCpu.push(percentOfCore(cpuTicks(load.pid) - loadBefore, seconds));
            load.kill('SIGKILL');
          }
          if (session) {
            linesPerSecond[which].push(median(session.delivered.slice(mark)));
            await session.close();
          }
          runs[which].push(result);
        }
        process.stdout.write(`  round ${round + 1}/${rounds}: ${cases.map((which) => `${CASE_NAMES[which]} ${runs[which].at(-1).toFixed(0)} req/s`).join(', ')}\n`);
      }
      // Other work on the machine moves every figure from one run to the next: each round's runs are side by side, so
      // the figures are the rounds' own ratios. Their mean, with a 95% interval: one run's noise is near normal
      // (above), for which the mean is the most precise estimate; their median beside it, the verdict of earlier runs.
      const pairedRatios = (over, under) => runs[over].map((r, i) => r / runs[under][i]);
      const summary = (ratios) => {
        const { mean, low, high } = meanInterval(ratios);
        const interval = Number.isNaN(low) ? 'one round: no interval' : `95% interval ${low.toFixed(3)}–${high.toFixed(3)}`;
        return `${mean.toFixed(3)} (${interval}; median ${median(ratios).toFixed(3)})`;
      };
      console.log('');
      console.log(`proxy throughput without the dashboard: ${median(runs.without).toFixed(0)} req/s (proxy CPU ${median(cpu.without).toFixed(0)}% of a core)`);
      console.log(`proxy throughput with it open:          ${median(runs.with).toFixed(0)} req/s (proxy CPU ${median(cpu.with).toFixed(0)}% of a core)`);
      if (has('every')) console.log(`proxy throughput, every line streamed:  ${median(runs.every).toFixed(0)} req/s (proxy CPU ${median(cpu.every).toFixed(0)}% of a core)`);
      const loopRatio = (which) => median(loopPerRequest[which].map((w, i) => w / loopPerRequest.without[i])).toFixed(3);
      const everyLoop = has('every') ? `, ${median(loopPerRequest.every).toFixed(1)} µs every line (${loopRatio('every')})` : '';
      console.log(`the proxy's event loop per forwarded request: ${median(loopPerRequest.without).toFixed(1)} µs without, ${median(loopPerRequest.with).toFixed(1)} µs open (paired ratio ${loopRatio('with')})${everyLoop}`);
      const streamed = (which) => `${CASE_NAMES[which]} ${median(linesPerSecond[which])} /s (of ${streams[which].count * LINES_PER_SECOND} written to the logs they follow)`;
      console.log(`log lines the streams stood for (shown, or counted as left out by latest=${pageLines}): ${['with', 'every'].filter(has).map(streamed).join('; ')}`);
      const verdict = meanInterval(pairedRatios('with', 'without')).mean;
      console.log(`ratio with/without: ${summary(pairedRatios('with', 'without'))}: target ≥ 0.95 ${verdict >= 0.95 ? 'ok' : 'MISSED'}`);
      if (has('every')) console.log(`every line/without: ${summary(pairedRatios('every', 'without'))}: ${streams.every.count} streams of ${LINES_PER_SECOND} lines/s each out of the proxy, more than any number of open pages asks; not the verdict`);
      if (has('control')) {
        console.log(`control/without: ${summary(pairedRatios('control', 'without'))}: a plain ${cost.toFixed(1)}% of a core (it took ${median(controlCpu).toFixed(1)}% under wrk), what that much CPU costs on this machine now`);
        console.log(`with/control: ${summary(pairedRatios('with', 'control'))}: what the dashboard costs beyond its CPU`);
      }
    }
    await bare.close();

    const { chromium } = await import(pathToFileURL(path.join(repo, 'node_modules', 'playwright-core', 'index.mjs')).href);
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
    cleanups.push(() => void browser.close());
    const page = await browser.newPage();
    if (manyServices > 0) await many(manyServices, { repo, home, port, proxyPid, page, dashboard, cleanups, chromiumTicks });

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
 * The mean of `values` and its 95% interval (Student's t: from the table up to 9 degrees of freedom, then
 * approximated as 1.96 + 2.4 / (n − 1), within 2% of the table's). One value has no interval (NaN).
 */
function meanInterval(values) {
  const n = values.length;
  const mean = values.reduce((sum, v) => sum + v, 0) / n;
  if (n < 2) return { mean, low: NaN, high: NaN };
  const sd = Math.sqrt(values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (n - 1));
  const half = (T_975[n - 2] ?? 1.96 + 2.4 / (n - 1)) * (sd / Math.sqrt(n));
  return { mean, low: mean - half, high: mean + half };
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

/** Requests per second through the proxy to `web`, wrk in a process of its own. */
async function wrk(port, seconds) {
  const out = await runWrk(['-t1', '-c50', `-d${seconds}s`, '-H', `Host: web.bench.localhost:${port}`, `http://127.0.0.1:${port}/`]);
  return Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
}

/** CPU ticks of every Chromium process this benchmark started (the browser, its renderers, GPU and network). */
function chromiumTicks() {
  return treeCpuTicks(process.pid, { match: (comm) => comm.startsWith('chrom') });
}
