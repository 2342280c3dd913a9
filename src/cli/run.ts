import { statSync } from 'node:fs';
import { PortbrokerError, UsageError } from '../errors.js';
import { withInvocation } from './invocation.js';
import { err, warn } from './output.js';

/** Options as cac hands them over: global flags plus the command's own, camel-cased. */
export interface CliOptions {
  config?: string;
  cwd?: string;
  json?: boolean;
  proxyPort?: string | number;
  '--'?: string[];
  [flag: string]: unknown;
}

/** A command module's entry: prints its result and returns the exit status (0 when omitted). */
export type CommandMain = (args: unknown[], options: CliOptions) => Promise<number | void>;

/** Loads one command's module, runs it, and turns what it throws into one line and an exit status. */
export async function run(name: string, args: unknown[], options: CliOptions): Promise<void> {
  try {
    if (options.cwd !== undefined) checkCwd(String(options.cwd));
    const mod = (await import(`./commands/${name}.js`)) as { default: CommandMain };
    const status = await mod.default(args, options);
    if (typeof status === 'number' && status !== 0) process.exitCode = status;
  } catch (error) {
    process.exitCode = report(error);
  }
}

/** `--cwd` names a folder that exists: otherwise every command would say it found no config there. */
function checkCwd(cwd: string): void {
  const stat = statSync(cwd, { throwIfNoEntry: false });
  if (stat?.isDirectory()) return;
  throw new UsageError(`--cwd ${cwd}: ${stat ? 'not a folder' : 'no such folder'}`, ['give a folder of your project (or leave --cwd out to use the current one)']);
}

export function report(error: unknown): number {
  if (error instanceof PortbrokerError) {
    process.stderr.write(`${err.red('portbroker:')} ${withInvocation(error.message)}\n`);
    for (const line of error.details) process.stderr.write(`  ${withInvocation(line)}\n`);
    return error.exitCode;
  }
  process.stderr.write(`${err.red('portbroker: unexpected error:')} ${(error as Error)?.stack ?? String(error)}\n`);
  return 1;
}

/** The options every command passes on to the library. */
export function common(options: CliOptions) {
  return { cwd: options.cwd, config: options.config, proxyPort: options.proxyPort, onWarning: warn };
}
