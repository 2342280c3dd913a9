// A phase of the dashboard benchmark (bench/dashboard.bench.mjs): a machine with hundreds of services.
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuTicks, median, percentOfCore, runWrk, wrkMs } from './lib.mjs';

/**
 * BENCH_MANY services in a second project, each a process in a group of its own as `up` starts them: the time a
 * registry change takes to reach the open page, and what that page costs the proxy (CPU; latency of forwarded
 * requests, where a long synchronous pass over /proc would show).
 */
export async function many(count, { repo, home, port, proxyPid, page, dashboard, cleanups, chromiumTicks }) {
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
    const out = await runWrk(['-t1', '-c10', '-d5s', '--latency', '-H', `Host: web.bench.localhost:${port}`, `http://127.0.0.1:${port}/`]);
    return { p99: wrkMs(/\s99%\s+([\d.]+\w+)/.exec(out)?.[1]), max: wrkMs(/Latency\s+\S+\s+\S+\s+([\d.]+\w+)/.exec(out)?.[1]) };
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
  closed.cpu = percentOfCore(cpuTicks(proxyPid) - closed.ticks, 5);

  const t0 = Date.now();
  await page.goto(dashboard);
  await page.waitForFunction((n) => document.querySelectorAll('tr[data-service^="many/"]').length === n, count, { timeout: 60_000 });
  const firstPaint = Date.now() - t0;
  const open = { ticks: cpuTicks(proxyPid), chromium: chromiumTicks(), ...(await loopDelay(latency())) };
  open.cpu = percentOfCore(cpuTicks(proxyPid) - open.ticks, 5);
  open.chromiumCpu = percentOfCore(chromiumTicks() - open.chromium, 5);

  // A service crashes and comes back, five times: from the registry write to the page showing it.
  const shown = [];
  for (let round = 0; round < 5; round++) {
    // Five services spread over the list (any of them when there are fewer).
    const name = `s${String((round * 37) % count).padStart(3, '0')}`;
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
