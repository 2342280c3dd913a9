import { describe, expect, it } from 'vitest';
import { fixture, freePort } from '../helpers/cli.js';
import { livePid, registerService, setState, startSupervisor, startUpstream, until } from '../proxy/helpers.js';
import { proxyLog } from '../proxy/raw.js';
import { curl, h2Get, h2Session, startHttpsProxy } from './helpers.js';

/**
 * What HTTP/2 streams get besides a service's answer: the proxy's own pages (a service that is down, a name it
 * does not know, a Host it refuses), refusals where the user looks for them (proxy.log, the dashboard), and the
 * wait for an on-demand service's start — as on HTTP/1.1, through the h2 path's own code (src/tls/h2-streams.ts).
 */

async function setUp() {
  const fx = await fixture();
  const { ca, caFile } = await startHttpsProxy(fx);
  const session = await h2Session(fx.proxyPort, 'web.acme.localhost', ca);
  return { fx, caFile, session, authority: (name: string) => `${name}:${fx.proxyPort}` };
}

const JSON_ACCEPT = { accept: 'application/json' };

describe('HTTP/2: the proxy\'s pages and waits', () => {
  it('answers for a service that is down with the 502 page: the service, its port and why', async () => {
    const { fx, session, authority } = await setUp();
    const port = await freePort(); // nothing listens there
    await registerService(fx.home, { service: 'web', port, command: 'node web.js' });

    const json = await h2Get(session, authority('web.acme.localhost'), '/', JSON_ACCEPT);
    expect(json.status).toBe(502);
    expect(JSON.parse(json.body)).toMatchObject({ error: 'unavailable', service: 'web', port, reason: `nothing answers on port ${port} (127.0.0.1 or ::1)` });
    const html = await h2Get(session, authority('web.acme.localhost'));
    expect(html.status).toBe(502);
    expect(html.headers['content-type']).toMatch(/^text\/html/);
    expect(html.body).toContain(`web of acme (port ${port}) is running: nothing answers on port ${port}`);
  });

  it('answers an unknown name with the 404 page, and refuses a foreign Host with 403, in proxy.log and on the dashboard', async () => {
    const { fx, caFile, session, authority } = await setUp();
    const upstream = await startUpstream((_req, res) => res.end('web'));
    await registerService(fx.home, { service: 'web', port: upstream.port });

    const unknown = await h2Get(session, authority('nope.acme.localhost'), '/', JSON_ACCEPT);
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body)).toMatchObject({ error: 'unknown-host', host: 'nope.acme.localhost' });

    const foreign = await h2Get(session, 'evil.example', '/', JSON_ACCEPT);
    expect(foreign.status).toBe(403);
    expect(JSON.parse(foreign.body)).toMatchObject({ error: 'blocked-host', host: 'evil.example' });
    await until(() => proxyLog(fx.home).includes('refused: blocked-host; host "evil.example"; peer 127.0.0.1:'), 'the refusal in the proxy log');

    // The dashboard (HTTP/1.1 only) lists it among the latest refusals; the 404 is no refusal.
    const url = `https://portbroker.localhost:${fx.proxyPort}/api/v1/proxy`;
    const view = await curl(['--cacert', caFile, '--resolve', `portbroker.localhost:${fx.proxyPort}:127.0.0.1`, url]);
    const { refused } = JSON.parse(view.stdout) as { refused: Array<{ host: string; status: number; reason: string }> };
    expect(refused.map(({ host, status, reason }) => ({ host, status, reason }))).toEqual([{ host: 'evil.example', status: 403, reason: 'blocked-host' }]);
  });

  it('holds a stream for an on-demand service until it runs, while the session serves other streams', async () => {
    const { fx, session, authority } = await setUp();
    const web = await startUpstream((_req, res) => res.end('web'));
    await registerService(fx.home, { service: 'web', port: web.port });
    let running = false;
    const docs = await startUpstream((_req, res) => res.end(running ? 'started on demand' : 'not yet'));
    let release: (() => void) | undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const supervisor = await startSupervisor(fx.home, async (service) => {
      await setState(fx.home, service, 'starting');
      await released;
      running = true;
      await setState(fx.home, service, 'running');
    });
    await registerService(fx.home, { service: 'docs', port: docs.port, state: 'reserved', onDemand: true, ownerPid: livePid(), control: supervisor.socket });

    const first = h2Get(session, authority('docs.acme.localhost'));
    await until(() => supervisor.starts.includes('docs'), 'the start request');
    // The stream for docs waits; one for another service on the same connection does not wait with it.
    expect(await h2Get(session, authority('web.acme.localhost'))).toMatchObject({ status: 200, body: 'web' });
    release!();
    expect(await first).toMatchObject({ status: 200, body: 'started on demand' });
    expect(supervisor.starts).toEqual(['docs']);
    // Traffic on the running service is reported, so its idle timer starts over.
    await h2Get(session, authority('docs.acme.localhost'));
    await until(() => supervisor.touches.includes('docs'), 'an activity report');
  });
});
