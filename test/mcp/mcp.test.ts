import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { describe, expect, it, onTestFinished } from 'vitest';
import { CLI, fixture, type Fixture } from '../helpers/cli.js';
import { config, SERVE } from '../runner/helpers.js';

/**
 * `portbroker mcp` driven by the SDK's own client over stdio, as a coding agent would: the real CLI, against a
 * fixture project that `up` runs.
 */

async function connect(fx: Fixture): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, 'mcp'],
    cwd: fx.root,
    env: { ...(process.env as Record<string, string>), ...(fx.env as Record<string, string>) },
    stderr: 'pipe',
  });
  const client = new Client({ name: 'portbroker-test', version: '1.0.0' });
  await client.connect(transport);
  onTestFinished(() => client.close());
  return client;
}

function json(result: Awaited<ReturnType<Client['callTool']>>): any {
  const content = result.content as Array<{ type: string; text: string }>;
  return JSON.parse(content[0]!.text);
}

describe('portbroker mcp', () => {
  it('lists its tools, the services with URLs and ports, a service\'s log; restarts, stops and starts it', async () => {
    const fx = await fixture({
      'package.json': JSON.stringify({ name: 'mcp-acme' }),
      'serve.mjs': SERVE,
      'portbroker.config.json': config({ services: { api: { command: 'node serve.mjs' }, db: { proxy: false } } }),
    });
    const up = fx.start(['up']);
    await up.waitFor(/api listening on \d+/);

    const client = await connect(fx);
    const tools = (await client.listTools()).tools.map((t) => t.name);
    expect(tools).toEqual(expect.arrayContaining(['list_services', 'get_service', 'read_logs']));

    const listed = json(await client.callTool({ name: 'list_services', arguments: {} }));
    expect(listed.services.map((s: { service: string }) => s.service)).toEqual(['api', 'db']);
    expect(listed.services[0]).toMatchObject({ project: 'mcp-acme', service: 'api', state: 'running', url: `http://api.mcp-acme.localhost:${fx.proxyPort}` });

    const api = json(await client.callTool({ name: 'get_service', arguments: { service: 'api' } }));
    expect(api.port).toBeGreaterThan(0);
    expect(api.pid).toBeGreaterThan(0);
    const elsewhere = json(await client.callTool({ name: 'get_service', arguments: { service: 'api', project: 'mcp-acme' } }));
    expect(elsewhere.port).toBe(api.port);

    const logs = json(await client.callTool({ name: 'read_logs', arguments: { service: 'api', lines: 5 } }));
    expect(logs.lines.map((l: { text: string }) => l.text)).toContain(`api listening on ${api.port}`);

    // Restarted through the tool: a new process, ready, on the same port.
    expect(tools).toEqual(expect.arrayContaining(['restart_service', 'stop_service', 'start_service']));
    const restarted = json(await client.callTool({ name: 'restart_service', arguments: { service: 'api' } }));
    expect(restarted).toMatchObject({ service: 'api', action: 'restart', state: 'running', previousPid: api.pid, port: api.port });
    expect(restarted.pid).not.toBe(api.pid);
    const after = json(await client.callTool({ name: 'get_service', arguments: { service: 'api', project: 'mcp-acme' } }));
    expect(after).toMatchObject({ state: 'running', pid: restarted.pid });
    const stopped = json(await client.callTool({ name: 'stop_service', arguments: { service: 'api', project: 'mcp-acme' } }));
    expect(stopped).toMatchObject({ action: 'stop', state: 'stopped' });
    const started = json(await client.callTool({ name: 'start_service', arguments: { service: 'api' } }));
    expect(started).toMatchObject({ action: 'start', state: 'running' });

    const unknown = await client.callTool({ name: 'get_service', arguments: { service: 'nope' } });
    expect(unknown.isError).toBe(true);
    expect((unknown.content as Array<{ text: string }>)[0]!.text).toMatch(/no service "nope" in this project \(it has api, db\)/);
  });
});
