import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/cli.js';
import { get, livePid, registerService, setState, startProxy, startSupervisor, startUpstream, until } from './helpers.js';

/**
 * On-demand services: the proxy asks the supervisor (over its control socket, the contract of
 * src/control/client.ts) to start the service on the first request, holds the request until the
 * registry says `running`, and reports traffic so the idle timer starts over. The supervisor here is a stand-in
 * that speaks that contract over a real Unix socket.
 */

describe('on-demand services', () => {
  it('starts the service on the first request, which waits and succeeds; later traffic is reported', async () => {
    const fx = await fixture();
    await startProxy(fx);
    let running = false;
    const upstream = await startUpstream((_req, res) => res.end(running ? 'started on demand' : 'not yet'));
    const supervisor = await startSupervisor(fx.home, async (service) => {
      await setState(fx.home, service, 'starting');
      running = true;
      await setState(fx.home, service, 'running');
    });
    await registerService(fx.home, { service: 'docs', port: upstream.port, state: 'reserved', onDemand: true, ownerPid: livePid(), control: supervisor.socket });

    const first = await get(fx.proxyPort, 'docs.acme.localhost');
    expect(first.status).toBe(200);
    expect(first.body).toBe('started on demand');
    expect(supervisor.starts).toEqual(['docs']);

    // Traffic on a running on-demand service keeps its idle timer from running out.
    await get(fx.proxyPort, 'docs.acme.localhost');
    await until(() => supervisor.touches.includes('docs'), 'an activity report');
  });

  it('shows the 502 page with the reason when the service crashes while starting', async () => {
    const fx = await fixture();
    await startProxy(fx);
    const supervisor = await startSupervisor(fx.home, async (service) => {
      await setState(fx.home, service, 'crashed');
    });
    await registerService(fx.home, { service: 'docs', port: 1, state: 'stopped', onDemand: true, ownerPid: livePid(), control: supervisor.socket, command: 'node docs.js' });
    const reply = await get(fx.proxyPort, 'docs.acme.localhost', { headers: { accept: 'application/json' } });
    expect(reply.status).toBe(502);
    expect(JSON.parse(reply.body)).toMatchObject({ service: 'docs', state: 'crashed', command: 'node docs.js' });
    expect(JSON.parse(reply.body).reason).toContain('stopped while starting');
  });

  it('does not start a service without a live supervisor: the 502 page says how to start it (`portbroker` when no up recorded how it was run)', async () => {
    const fx = await fixture();
    await startProxy(fx);
    await registerService(fx.home, { service: 'docs', port: 1, state: 'reserved', onDemand: true, command: 'node docs.js' });
    const reply = await get(fx.proxyPort, 'docs.acme.localhost');
    expect(reply.status).toBe(502);
    expect(reply.body).toMatch(/&amp;&amp; portbroker up docs/);
  });
});
