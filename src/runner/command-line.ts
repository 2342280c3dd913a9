import { addPortFlags, type PortFlagsResult } from './framework-flags.js';
import { shellQuote } from '../platform/shell.js';

/** What the shell runs, and what portbroker added to it (see `addPortFlags`). */
export type PreparedCommand = PortFlagsResult;

/**
 * The command a service runs: `{port}` replaced by its port (`$PORT` is left to the shell, which has it in
 * the environment), then the port flags of a known dev server that ignores PORT.
 */
export function prepareCommand(command: string, port: number, cwd: string): PreparedCommand {
  return addPortFlags(command.replace(/\{port\}/g, String(port)), port, cwd);
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
