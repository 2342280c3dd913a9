import { once } from 'node:events';
import http from 'node:http';
import { describe, expect, it, onTestFinished } from 'vitest';
import { Forwarder, UpstreamAgents } from '../../src/proxy/forward.js';
import { ConnectionStats } from '../../src/proxy/stats.js';
import { UpstreamDialer } from '../../src/proxy/upstream.js';
import { startUpstream } from './helpers.js';

/** The general path's forwarder, on its own: what closing it closes. */
describe('Forwarder', () => {
  it('closes only what it made: an answer still coming over the agents it was handed goes on to its end', async () => {
    let finish: (() => void) | undefined;
    const upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first part, ');
      finish = () => res.end('and the rest');
    });
    const agents = new UpstreamAgents(new UpstreamDialer(), new ConnectionStats());
    onTestFinished(() => agents.close());
    const forwarder = new Forwarder(agents);

    const request = http.get({ agent: agents.pool, host: 'localhost', port: upstream.port, path: '/' });
    const [response] = (await once(request, 'response')) as [http.IncomingMessage];
    response.setEncoding('utf8');
    let body = '';
    response.on('data', (chunk: string) => (body += chunk));
    response.on('error', () => undefined); // a cut answer: 'close' says it
    const outcome = new Promise<string>((resolve) => response.on('close', () => resolve(response.complete ? 'complete' : 'cut short')));
    await once(response, 'data');

    forwarder.close();
    finish!();
    expect(await outcome).toBe('complete');
    expect(body).toBe('first part, and the rest');
  });
});
