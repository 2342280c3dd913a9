import { addPortFlags } from './framework-flags.js';
import { shellQuote } from '../platform/shell.js';

export interface PreparedCommand {
  /** What the shell runs. */
  command: string;
  /** Flags added for a dev server that ignores PORT, e.g. `--port 61234 --strictPort --host 127.0.0.1`. */
  added: string;
  server?: string;
  /** The command pins a port of its own that is not the reserved one. */
  conflict?: string;
}

/**
 * The command a service runs: `{port}` replaced by its port (`$PORT` is left to the shell, which has it in
 * the environment), then the port flags of a known dev server that ignores PORT.
 */
export function prepareCommand(command: string, port: number, cwd: string): PreparedCommand {
  const expanded = command.replace(/\{port\}/g, String(port));
  const result = addPortFlags(expanded, port, cwd);
  return { command: result.command, added: result.added, server: result.server, conflict: result.conflict };
}

/**
 * Joins `portbroker run … -- <args>` into one shell command. One argument is taken as a shell command as
 * written (`-- "npm run dev && echo done"`); several are quoted where needed, since the user's shell already
 * split them.
 */
export function joinArguments(args: string[]): string {
  if (args.length === 1) return args[0]!;
  return args.map(shellQuote).join(' ');
}
