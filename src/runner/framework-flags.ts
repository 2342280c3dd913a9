import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Dev servers that ignore `PORT` get their port on the command line. The command is left alone when it already
 * sets a port, when it is not a simple command (pipes, `&&`), or when the tool is not known.
 */

export interface DevServer {
  name: string;
  /** Flags that set the port, recognised when already present. */
  portFlags: string[];
  /**
   * What to add for port N, one flag (with its value) per entry. An entry whose flag the command already has
   * is left out: `vite --host 0.0.0.0` keeps its host, `vite --strictPort` gets no second one.
   */
  flags: (port: number) => string[][];
}

const port = (p: number) => ['--port', String(p)];
const host = ['--host', '127.0.0.1'];

const viteLike = (name: string): DevServer => ({
  name,
  portFlags: ['--port'],
  flags: (p) => [port(p), ['--strictPort'], host],
});

const withHost = (name: string, portFlags = ['--port'], extra: string[][] = []): DevServer => ({
  name,
  portFlags,
  flags: (p) => [port(p), host, ...extra],
});

// `--ci`: storybook neither prompts nor opens a browser (it would wait for an answer on a stdin it never gets).
const storybook = withHost('storybook', ['-p', '--port'], [['--ci']]);

/** `bin` (+ the sub-commands that start a server; empty: the bare command does) → server. */
const SERVERS: Array<{ bins: string[]; subcommands: string[] | null; server: DevServer }> = [
  { bins: ['vite'], subcommands: ['', 'dev', 'serve', 'preview'], server: viteLike('vite') },
  { bins: ['react-router'], subcommands: ['dev'], server: viteLike('react-router') },
  { bins: ['remix'], subcommands: ['vite:dev'], server: viteLike('remix') },
  { bins: ['astro'], subcommands: ['dev', 'preview'], server: withHost('astro') },
  { bins: ['ng'], subcommands: ['serve', 's', 'dev'], server: withHost('ng serve') },
  { bins: ['storybook', 'sb'], subcommands: ['dev'], server: storybook },
  { bins: ['start-storybook'], subcommands: null, server: storybook },
  { bins: ['rsbuild'], subcommands: ['dev', 'preview'], server: withHost('rsbuild') },
  { bins: ['webpack', 'webpack-cli'], subcommands: ['serve', 'server', 's'], server: withHost('webpack-dev-server') },
  { bins: ['webpack-dev-server'], subcommands: null, server: withHost('webpack-dev-server') },
  { bins: ['docusaurus'], subcommands: ['start', 'serve'], server: withHost('docusaurus') },
  { bins: ['gatsby'], subcommands: ['develop', 'serve'], server: withHost('gatsby', ['-p', '--port']) },
];

/** Package runners that run a binary: how many words to skip before the binary's name. */
const RUNNERS: Record<string, string[]> = {
  npx: [],
  bunx: [],
  pnpx: [],
  'pnpm exec': [],
  'pnpm dlx': [],
  'yarn exec': [],
  'yarn dlx': [],
  'npm exec': [],
  'bun x': [],
};

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

const NOT_SERVING = new Set(['build', 'optimize', 'test', 'bench', 'lint']);

const SHELL_OPERATORS = /[|&;<>()`]|\$\(/;

export interface PortFlagsResult {
  /** The command to run. */
  command: string;
  /** What was appended, e.g. `--port 61234 --strictPort --host 127.0.0.1`; empty when nothing was. */
  added: string;
  /** The dev server recognised, if any. */
  server?: string;
  /** Set when the command pins a port of its own that differs from ours. */
  conflict?: string;
}

/** The dev server a command starts (looking through npx/pnpm exec/yarn/npm run), if it is a known one. */
export function detectDevServer(command: string, cwd?: string): DevServer | undefined {
  return inspect(command, cwd, 0)?.server;
}

export function addPortFlags(command: string, port: number, cwd?: string): PortFlagsResult {
  const found = inspect(command, cwd, 0);
  if (!found) return { command, added: '' };
  const { server, words, viaScript } = found;
  const existing = portIn(words, server);
  if (existing !== undefined) {
    const conflict = existing === String(port) || /\$\{?PORT\}?|\{port\}/.test(existing) ? undefined : existing;
    return { command, added: '', server: server.name, conflict };
  }
  const present = new Set(words.map(flagName));
  const flags = server.flags(port).filter(([flag]) => !present.has(flagName(flag!)));
  // npm passes arguments to the script only after `--`; a command that has one already needs no second.
  const separator = viaScript?.separator && !viaScript.hasSeparator;
  const added = (separator ? ['--', ...flags.flat()] : flags.flat()).join(' ');
  return { command: `${command.trimEnd()} ${added}`, added, server: server.name };
}

/** `--strictPort`, `--strict-port` and `--strictPort=true` are one flag to the CLIs concerned. */
function flagName(word: string): string {
  if (!word.startsWith('-')) return '';
  return word.split('=')[0]!.replace(/-/g, '').toLowerCase();
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
  if (RUNNERS[two] !== undefined) binAt = 2;
  else if (RUNNERS[first] !== undefined) binAt = 1;
  else if ((first === 'yarn' || first === 'pnpm' || first === 'bun') && rest[1] && !rest[1].startsWith('-')) binAt = 1;
  // Skip the runner's own flags (npx -y, npx --package=x, npm exec --).
  while (binAt > 0 && binAt < rest.length && (rest[binAt]!.startsWith('-'))) {
    binAt += rest[binAt] === '-p' || rest[binAt] === '--package' ? 2 : 1;
  }
  const bin = rest[binAt];
  if (!bin) return undefined;
  const name = path.basename(bin).replace(/@[^/]*$/, '');
  const after = rest.slice(binAt + 1);
  const positional = after.filter((w) => !w.startsWith('-'));
  const sub = positional[0] ?? '';
  for (const entry of SERVERS) {
    if (!entry.bins.includes(name)) continue;
    // A bare-command server (`vite`) also serves with a root folder argument (`vite apps/web`), not with `vite build`.
    const serves =
      entry.subcommands === null ||
      entry.subcommands.includes(sub) ||
      (entry.subcommands.includes('') && !positional.some((w) => NOT_SERVING.has(w)));
    if (serves) return { server: entry.server, words: after };
  }
  // `yarn dev` / `pnpm dev` / `bun dev` may name a script rather than a binary.
  if ((first === 'yarn' || first === 'pnpm' || first === 'bun') && binAt === 1 && cwd) {
    const text = readScript(cwd, bin);
    const inner = text ? inspect(text, cwd, depth + 1) : undefined;
    if (inner && !inner.viaScript?.separator) return { server: inner.server, words: [...inner.words, ...after], viaScript: { separator: false } };
  }
  return undefined;
}

function portIn(words: string[], server: DevServer): string | undefined {
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    for (const flag of server.portFlags) {
      if (word === flag) return words[i + 1] ?? '';
      if (word.startsWith(`${flag}=`)) return word.slice(flag.length + 1);
    }
  }
  return undefined;
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
