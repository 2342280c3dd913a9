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
  /** What to add for port N. */
  flags: (port: number) => string[];
}

const viteLike = (name: string): DevServer => ({
  name,
  portFlags: ['--port'],
  flags: (port) => ['--port', String(port), '--strictPort', '--host', '127.0.0.1'],
});

/** `bin` (+ the sub-commands that start a server; empty: the bare command does) → server. */
const SERVERS: Array<{ bins: string[]; subcommands: string[] | null; server: DevServer }> = [
  { bins: ['vite'], subcommands: ['', 'dev', 'serve', 'preview'], server: viteLike('vite') },
  { bins: ['react-router'], subcommands: ['dev'], server: viteLike('react-router') },
  { bins: ['remix'], subcommands: ['vite:dev'], server: viteLike('remix') },
  { bins: ['astro'], subcommands: ['dev', 'preview'], server: { name: 'astro', portFlags: ['--port'], flags: (p) => ['--port', String(p), '--host', '127.0.0.1'] } },
  { bins: ['ng'], subcommands: ['serve', 's', 'dev'], server: { name: 'ng serve', portFlags: ['--port'], flags: (p) => ['--port', String(p), '--host', '127.0.0.1'] } },
  { bins: ['storybook', 'sb'], subcommands: ['dev'], server: { name: 'storybook', portFlags: ['-p', '--port'], flags: (p) => ['--port', String(p), '--host', '127.0.0.1', '--ci'] } },
  { bins: ['start-storybook'], subcommands: null, server: { name: 'storybook', portFlags: ['-p', '--port'], flags: (p) => ['--port', String(p), '--host', '127.0.0.1', '--ci'] } },
  { bins: ['rsbuild'], subcommands: ['dev', 'preview'], server: { name: 'rsbuild', portFlags: ['--port'], flags: (p) => ['--port', String(p), '--host', '127.0.0.1'] } },
  { bins: ['webpack', 'webpack-cli'], subcommands: ['serve', 'server', 's'], server: { name: 'webpack-dev-server', portFlags: ['--port'], flags: (p) => ['--port', String(p), '--host', '127.0.0.1'] } },
  { bins: ['webpack-dev-server'], subcommands: null, server: { name: 'webpack-dev-server', portFlags: ['--port'], flags: (p) => ['--port', String(p), '--host', '127.0.0.1'] } },
  { bins: ['docusaurus'], subcommands: ['start', 'serve'], server: { name: 'docusaurus', portFlags: ['--port'], flags: (p) => ['--port', String(p), '--host', '127.0.0.1'] } },
  { bins: ['gatsby'], subcommands: ['develop', 'serve'], server: { name: 'gatsby', portFlags: ['-p', '--port'], flags: (p) => ['--port', String(p), '--host', '127.0.0.1'] } },
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

/** Script runners: `npm run dev` runs package.json's `dev` script; npm needs `--` before extra arguments. */
const SCRIPT_RUNNERS: Record<string, { separator: boolean }> = {
  'npm run': { separator: true },
  'npm run-script': { separator: true },
  'pnpm run': { separator: false },
  'yarn run': { separator: false },
  'bun run': { separator: false },
};

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
  const flags = server.flags(port);
  const added = (viaScript?.separator ? ['--', ...flags] : flags).join(' ');
  return { command: `${command.trimEnd()} ${added}`, added, server: server.name };
}

interface Found {
  server: DevServer;
  /** The words of the command that runs the server (the script's text when reached through `npm run`). */
  words: string[];
  viaScript?: { separator: boolean };
}

function inspect(command: string, cwd: string | undefined, depth: number): Found | undefined {
  if (depth > 3 || SHELL_OPERATORS.test(command.replace(/\$\{?PORT\}?/g, ''))) return undefined;
  const words = splitWords(command);
  let i = 0;
  while (i < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]!)) i++; // FOO=bar prefixes
  const rest = words.slice(i);
  const first = rest[0];
  if (!first) return undefined;
  const two = rest.length > 1 ? `${first} ${rest[1]}` : '';

  const script = SCRIPT_RUNNERS[two] ? { name: rest[2], runner: SCRIPT_RUNNERS[two]! } : undefined;
  if (script?.name && cwd) {
    const text = readScript(cwd, script.name);
    const inner = text ? inspect(text, cwd, depth + 1) : undefined;
    if (!inner) return undefined;
    // Arguments given after the script name already reach the script: count them too.
    return { server: inner.server, words: [...inner.words, ...rest.slice(3)], viaScript: script.runner };
  }

  let binAt = 0;
  if (RUNNERS[two] !== undefined) binAt = 2;
  else if (RUNNERS[first] !== undefined) binAt = 1;
  else if ((first === 'yarn' || first === 'pnpm') && rest[1] && !rest[1].startsWith('-')) binAt = 1;
  // Skip the runner's own flags (npx -y, npx --package=x, npm exec --).
  while (binAt > 0 && binAt < rest.length && (rest[binAt]!.startsWith('-'))) {
    binAt += rest[binAt] === '-p' || rest[binAt] === '--package' ? 2 : 1;
  }
  const bin = rest[binAt];
  if (!bin) return undefined;
  const name = path.basename(bin).replace(/@[^/]*$/, '');
  const after = rest.slice(binAt + 1);
  const sub = after.find((w) => !w.startsWith('-')) ?? '';
  for (const entry of SERVERS) {
    if (!entry.bins.includes(name)) continue;
    // A bare-command server (`vite`) also serves with a root folder argument (`vite apps/web`), not with `vite build`.
    const serves = entry.subcommands === null || entry.subcommands.includes(sub) || (entry.subcommands.includes('') && !NOT_SERVING.has(sub));
    if (serves) return { server: entry.server, words: after };
  }
  // `yarn dev` / `pnpm dev` may name a script rather than a binary.
  if ((first === 'yarn' || first === 'pnpm' || first === 'bun') && binAt === 1 && cwd) {
    const text = readScript(cwd, bin);
    const inner = text ? inspect(text, cwd, depth + 1) : undefined;
    if (inner) return { server: inner.server, words: [...inner.words, ...after], viaScript: { separator: false } };
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

/** Splits a simple shell command into words, honouring quotes (no expansion). */
export function splitWords(command: string): string[] {
  const words: string[] = [];
  let current = '';
  let quote: string | undefined;
  let has = false;
  for (const ch of command) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else current += ch;
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
