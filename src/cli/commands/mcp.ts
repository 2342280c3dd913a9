import { readFileSync } from 'node:fs';
import { common, type CliOptions } from '../run.js';

/** `portbroker mcp`: stdout carries the protocol, so warnings go to stderr only (as they always do). */
export default async function main(_args: unknown[], options: CliOptions) {
  const { serveMcp } = await import('../../mcp/server.js');
  await serveMcp(common(options), version());
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}
