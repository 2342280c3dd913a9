import { parsePort } from '../config/settings.js';
import { joinArguments } from '../runner/command-line.js';
import { preloadRegistryWriter } from '../runner/registry-publisher.js';
import { openAdHocProject } from '../project/adhoc.js';
import type { Session } from '../runner/session.js';
import { superviseProject, type UpOptions } from './up.js';

export interface RunOptions extends UpOptions {
  /** Pin the port instead of letting the allocator choose. */
  port?: number | string;
}

/**
 * `portbroker run <name> [--port N] -- <command…>`: one command with a reserved port, a URL through the proxy
 * and the environment of a service, without a config file. `{port}` in the command becomes the port. The
 * session ends when the command ends, with its exit status.
 */
export async function run(name: string, args: string[], options: RunOptions = {}): Promise<Session> {
  const port = parsePort(options.port, '--port');
  preloadRegistryWriter();
  const project = await openAdHocProject({ name, command: args.length > 0 ? joinArguments(args) : undefined, port }, options);
  return superviseProject(project, [name], [name], { ...options, exitWith: name });
}
