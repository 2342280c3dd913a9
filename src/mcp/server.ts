import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';
import type { CommonOptions } from '../project/context.js';
import { actOnService, findService, listServices, readLogs } from './targets.js';

/**
 * `portbroker mcp`: the Model Context Protocol on stdio, so a coding agent can see and drive a project's dev
 * servers without parsing terminal output. Each tool returns the same objects as `--json` (as structured
 * content and as JSON text); a failure is a tool error with portbroker's one-line message.
 */

const project = z
  .string()
  .optional()
  .describe('Another project on this machine (its name, or <label>.<name> for a worktree); default: the project the server runs in');

export function createMcpServer(options: CommonOptions, version: string): McpServer {
  const server = new McpServer({ name: 'portbroker', version });

  server.registerTool(
    'list_services',
    {
      title: 'List services',
      description: "The project's services with port, URL, state (running, starting, on-demand, stopped, crashed, reserved, orphaned) and pid; all: true for every project on this machine.",
      inputSchema: { all: z.boolean().optional().describe('Every project on this machine, and the aliases') },
      annotations: { readOnlyHint: true },
    },
    ({ all }) => answer(async () => ({ services: await listServices(options, all === true) })),
  );

  server.registerTool(
    'get_service',
    {
      title: 'Get a service',
      description: "One service's URL (through the proxy), port, state and pid: what to open or curl.",
      inputSchema: { service: z.string().describe('The service name, as in portbroker.config.ts'), project },
      annotations: { readOnlyHint: true },
    },
    ({ service, project }) => answer(() => findService(options, service, project)),
  );

  server.registerTool(
    'read_logs',
    {
      title: 'Read logs',
      description: "The last lines a service printed (its log file, colours removed), portbroker's own notes marked [portbroker].",
      inputSchema: {
        service: z.string().describe('The service name'),
        project,
        lines: z.number().int().min(1).max(5000).optional().describe('How many lines, from the end (default 100)'),
      },
      annotations: { readOnlyHint: true },
    },
    ({ service, project, lines }) => answer(() => readLogs(options, service, project, lines ?? 100)),
  );

  for (const [action, title, description] of [
    ['restart', 'Restart a service', 'Stops the service and starts it again; answers once it is ready (or failed), with its new pid.'],
    ['stop', 'Stop a service', 'Stops the service; it stays reserved and routed (its URL answers 502) until started.'],
    ['start', 'Start a service', 'Starts a stopped (or crashed) service of a running project; answers once it is ready or failed.'],
  ] as const) {
    server.registerTool(
      `${action}_service`,
      { title, description, inputSchema: { service: z.string().describe('The service name'), project }, annotations: { destructiveHint: action !== 'start' } },
      ({ service, project }) => answer(() => actOnService(options, action, service, project)),
    );
  }

  return server;
}

/** The tool result for a value, or a tool error with the message (the agent reads it; nothing is thrown). */
async function answer(run: () => Promise<object>) {
  try {
    const value = await run();
    return { content: [{ type: 'text' as const, text: JSON.stringify(value, null, 2) }], structuredContent: value as Record<string, unknown> };
  } catch (error) {
    return { content: [{ type: 'text' as const, text: (error as Error).message }], isError: true };
  }
}

/** Serves on stdin/stdout until the client closes stdin. */
export async function serveMcp(options: CommonOptions, version: string): Promise<void> {
  const server = createMcpServer(options, version);
  const closed = new Promise<void>((resolve) => (server.server.onclose = resolve));
  await server.connect(new StdioServerTransport());
  await closed;
}
