/**
 * `portbroker run web python3 -m http.server {port}` without `--`: the first word after the name that is not one
 * of portbroker's own flags starts the command, so `--` is inserted before it (cac would otherwise read `-m` as
 * an unknown flag of portbroker's). Flags before that word stay portbroker's; everything after it is the
 * command's. An argv that already has `--`, or none of this shape, is returned as it was.
 */

/** Flags `run` accepts that take a value (global ones included). */
const VALUE_FLAGS = new Set(['--port', '--config', '--cwd', '--proxy-port']);

export function insertRunSeparator(args: string[]): string[] {
  if (args.includes('--')) return args;
  let i = skipFlags(args, 0);
  if (args[i] !== 'run') return args;
  i = skipFlags(args, i + 1);
  if (i >= args.length) return args;
  const start = skipFlags(args, i + 1);
  if (start >= args.length) return args;
  return [...args.slice(0, start), '--', ...args.slice(start)];
}

/** The index of the first positional word at or after `from`, stepping over flags and their values. */
function skipFlags(args: string[], from: number): number {
  let i = from;
  while (i < args.length && args[i]!.startsWith('-')) {
    const flag = args[i]!;
    i += VALUE_FLAGS.has(flag) ? 2 : 1;
  }
  return i;
}
