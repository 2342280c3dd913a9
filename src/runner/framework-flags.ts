import { readFileSync } from 'node:fs';
import path from 'node:path';
import { positionals, SERVERS, type DevServer, type Flag } from './dev-servers.js';

/**
 * Finds the dev server a command starts (through package runners, `npm run` scripts and `python -m`) and adds
 * what `dev-servers.ts` says it needs: its port when it ignores `PORT`, and the flags that keep it on loopback.
 * The command is left alone when it is not a simple command (pipes, `&&`) or the tool is not known; a command
 * that sets another port of its own gets nothing added and is reported as a conflict.
 */

export type { DevServer } from './dev-servers.js';

/** Package runners that run a binary (of a package, a virtualenv, a bundle) named next. */
const RUNNERS = new Set(['npx', 'bunx', 'pnpx', 'pnpm exec', 'pnpm dlx', 'yarn exec', 'yarn dlx', 'npm exec', 'bun x', 'uv run', 'uvx', 'poetry run', 'pipenv run', 'pdm run', 'bundle exec']);

/**
 * Script runners: `npm run dev` runs package.json's `dev` script (`npm start` its `start` script); npm needs
 * `--` before arguments meant for the script.
 */
const SCRIPT_RUNNERS: Record<string, { separator: boolean; script?: string }> = {
  'npm run': { separator: true },
  'npm run-script': { separator: true },
  'npm start': { separator: true, script: 'start' },
  'pnpm run': { separator: false },
  'yarn run': { separator: false },
  'bun run': { separator: false },
};

/** Words that only prefix the real command: `exec vite`, `cross-env NODE_ENV=development vite`. */
const PREFIXES = new Set(['exec', 'env', 'cross-env', 'nohup']);

const NOT_SERVING = new Set(['build', 'optimize', 'test', 'bench', 'lint', 'export', 'info', 'telemetry']);

/** Interpreters whose program is a module (`python -m flask`) or a script (`python manage.py`, `php artisan`). */
const INTERPRETER = /^(python(\d(\.\d+)?)?|py|php|ruby)$/;
/** Python's own options that take a value (`python -X dev -m flask`). */
const PYTHON_VALUE_OPTIONS = new Set(['-X', '-W', '-Q', '-c']);

const SHELL_OPERATORS = /[|&;<>()`]|\$\(/;

export interface PortFlagsResult {
  /** The command to run. */
  command: string;
  /** What was appended, e.g. `--port 61234 --strictPort --host 127.0.0.1`; empty when nothing was. */
  added: string;
  /** The dev server recognised, if any. */
  server?: string;
  /** What the added flags are for: its port (it ignores PORT), loopback only, and the server's own extra. */
  reasons?: Array<'port' | 'loopback' | 'extra'>;
  /** Set when the command pins a port of its own that differs from ours. */
  conflict?: string;
}

/** The dev server a command starts (looking through npx/pnpm exec/yarn/npm run/python -m), if it is a known one. */
export function detectDevServer(command: string, cwd?: string): DevServer | undefined {
  return inspect(command, cwd, 0)?.server;
}

export function addPortFlags(command: string, port: number, cwd?: string): PortFlagsResult {
  const found = inspect(command, cwd, 0);
  if (!found) return { command, added: '' };
  const { server, words, viaScript } = found;
  const existing = portIn(words, server);
  const ours = existing === undefined || existing === String(port) || /\$\{?PORT\}?|\{port\}/.test(existing);
  // A port of its own: adding loopback flags would not make it reachable; the user is told instead.
  if (!ours) return { command, added: '', server: server.name, conflict: existing };
  const portFlags = existing === undefined && !server.readsPort ? server.port(port) : [];
  const present = new Set(words.filter((w) => w.startsWith('-')).map(flagName));
  const isMissing = (f: Flag) => !f.words[0]!.startsWith('-') || ![f.words[0]!, ...(f.aliases ?? [])].some((name) => present.has(flagName(name)));
  const groups = [
    { reason: 'port' as const, flags: portFlags.filter(isMissing) },
    { reason: 'loopback' as const, flags: server.loopback.filter(isMissing) },
    { reason: 'extra' as const, flags: (server.extra ?? []).filter(isMissing) },
  ].filter((g) => g.flags.length > 0);
  if (groups.length === 0) return { command, added: '', server: server.name };
  // npm passes arguments to the script only after `--`; a command that has one already needs no second.
  const separator = viaScript?.separator && !viaScript.hasSeparator;
  const flags = groups.flatMap((g) => g.flags.flatMap((f) => f.words));
  const added = (separator ? ['--', ...flags] : flags).join(' ');
  return { command: `${command.trimEnd()} ${added}`, added, server: server.name, reasons: groups.map((g) => g.reason) };
}

/**
 * What portbroker added to a command and why, in words: "vite ignores PORT, so portbroker added --port …",
 * "portbroker added -H 127.0.0.1 so next listens on loopback only".
 */
export function describeAdded(result: PortFlagsResult): string | undefined {
  const { added, server, reasons = [] } = result;
  if (!added) return undefined;
  if (reasons.includes('port')) return `${server} ignores PORT, so portbroker added ${added}`;
  const why = reasons.map((r) => (r === 'loopback' ? `${server} listens on loopback only` : (EXTRA_REASONS[server!] ?? `${server} works behind the proxy`)));
  return `portbroker added ${added} so ${why.join(' and ')}`;
}

/** Why a server's extra flags are there, for `describeAdded`. */
const EXTRA_REASONS: Record<string, string> = {
  'webpack-dev-server': "webpack-dev-server's HMR socket goes through the proxy",
  storybook: 'storybook neither prompts nor opens a browser',
};

/**
 * One name per flag: `--strictPort`, `--strict-port` and `--strictPort=true` are one flag to the CLIs
 * concerned; short flags keep their case (`-H` is not `-h`).
 */
function flagName(word: string): string {
  const name = word.split('=')[0]!;
  return name.startsWith('--') ? name.replace(/-/g, '').toLowerCase() : name;
}

interface Found {
  server: DevServer;
  /** The words of the command that runs the server (the script's text when reached through `npm run`). */
  words: string[];
  viaScript?: { separator: boolean; hasSeparator?: boolean };
}

function inspect(command: string, cwd: string | undefined, depth: number): Found | undefined {
  if (depth > 3 || SHELL_OPERATORS.test(command.replace(/\$\{?PORT\}?/g, ''))) return undefined;
  const words = splitWords(command);
  let i = 0;
  const isAssignment = (w: string) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(w);
  for (;;) {
    while (i < words.length && isAssignment(words[i]!)) i++; // FOO=bar prefixes
    if (i < words.length && PREFIXES.has(words[i]!)) i++;
    else break;
  }
  const rest = words.slice(i);
  const first = rest[0];
  if (!first) return undefined;
  const two = rest.length > 1 ? `${first} ${rest[1]}` : '';

  const runner = SCRIPT_RUNNERS[two];
  if (runner) {
    const name = runner.script ?? rest[2];
    const extra = rest.slice(runner.script ? 2 : 3);
    if (!name || !cwd) return undefined;
    const text = readScript(cwd, name);
    const inner = text ? inspect(text, cwd, depth + 1) : undefined;
    // A script reached through two levels of `npm run` would need two separators: leave it alone.
    if (!inner || (runner.separator && inner.viaScript?.separator)) return undefined;
    // Arguments given after the script name already reach the script: count them too.
    return { server: inner.server, words: [...inner.words, ...extra], viaScript: { separator: runner.separator, hasSeparator: extra.includes('--') } };
  }

  let binAt = 0;
  if (RUNNERS.has(two)) binAt = 2;
  else if (RUNNERS.has(first)) binAt = 1;
  else if ((first === 'yarn' || first === 'pnpm' || first === 'bun') && rest[1] && !rest[1].startsWith('-')) binAt = 1;
  // Skip the runner's own flags (npx -y, npx --package=x, npm exec --).
  while (binAt > 0 && binAt < rest.length && (rest[binAt]!.startsWith('-'))) {
    binAt += rest[binAt] === '-p' || rest[binAt] === '--package' ? 2 : 1;
  }
  const bin = rest[binAt];
  if (!bin) return undefined;
  const program = programOf(path.basename(bin).replace(/@[^/]*$/, ''), rest.slice(binAt + 1));
  if (program) {
    const { name, args: after } = program;
    for (const entry of SERVERS) {
      if (!entry.bins.includes(name)) continue;
      const positional = positionals(after, entry.valueOptions);
      const sub = positional[0] ?? '';
      const { subcommands } = entry;
      // A bare-command server (`vite`) also serves with a root folder argument (`vite apps/web`), not with `vite build`.
      const serves =
        subcommands === null ||
        (typeof subcommands === 'function'
          ? subcommands(positional, after)
          : subcommands.includes(sub) || (subcommands.includes('') && !positional.some((w) => NOT_SERVING.has(w))));
      if (serves) return { server: entry.server, words: after };
    }
  }
  // `yarn dev` / `pnpm dev` / `bun dev` may name a script rather than a binary.
  if ((first === 'yarn' || first === 'pnpm' || first === 'bun') && binAt === 1 && cwd) {
    const text = readScript(cwd, bin);
    const inner = text ? inspect(text, cwd, depth + 1) : undefined;
    if (inner && !inner.viaScript?.separator) return { server: inner.server, words: [...inner.words, ...rest.slice(2)], viaScript: { separator: false } };
  }
  return undefined;
}

/**
 * The program a command runs and its arguments: the binary itself, or for an interpreter the module
 * (`python3 -m http.server 8000` → http.server) or script (`python manage.py runserver` → manage.py) it runs.
 */
function programOf(bin: string, args: string[]): { name: string; args: string[] } | undefined {
  if (!INTERPRETER.test(bin)) return { name: bin, args };
  if (bin === 'php' && args.includes('-S')) return { name: bin, args };
  let i = 0;
  while (i < args.length && args[i]!.startsWith('-') && args[i] !== '-m') i += PYTHON_VALUE_OPTIONS.has(args[i]!) ? 2 : 1;
  const word = args[i];
  if (word === '-m') return args[i + 1] ? { name: args[i + 1]!, args: args.slice(i + 2) } : undefined;
  if (word?.startsWith('-m') && word.length > 2) return { name: word.slice(2), args: args.slice(i + 1) };
  return word ? { name: path.basename(word), args: args.slice(i + 1) } : undefined;
}

function portIn(words: string[], server: DevServer): string | undefined {
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    for (const flag of server.portFlags) {
      if (word === flag) return words[i + 1] ?? '';
      if (word.startsWith(`${flag}=`)) return word.slice(flag.length + 1);
    }
  }
  return server.portArgument?.(words);
}

function readScript(cwd: string, name: string): string | undefined {
  try {
    const pkg = JSON.parse(readFileSync(path.join(cwd, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
    return pkg.scripts?.[name];
  } catch {
    return undefined;
  }
}

/** Splits a simple shell command into words, honouring quotes and backslashes as sh does (no expansion). */
export function splitWords(command: string): string[] {
  const words: string[] = [];
  let current = '';
  let quote: string | undefined;
  let has = false;
  for (let i = 0; i < command.length; i++) {
    const ch = command[i]!;
    if (quote === "'") {
      if (ch === quote) quote = undefined;
      else current += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = undefined;
      else if (ch === '\\' && i + 1 < command.length && '"\\$`'.includes(command[i + 1]!)) current += command[++i];
      else current += ch;
    } else if (ch === '\\' && i + 1 < command.length) {
      current += command[++i];
      has = true;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (/\s/.test(ch)) {
      if (has || current) words.push(current);
      current = '';
      has = false;
    } else {
      current += ch;
    }
  }
  if (has || current) words.push(current);
  return words;
}
