/**
 * The dev servers portbroker knows: how each is told its port, and how it is kept on loopback. A service gets
 * its port in `PORT`, but most tools ignore it, and many listen on every interface unless told otherwise; this
 * table says what to add to their command line. `framework-flags.ts` finds the server a command starts.
 */

/** One flag (with its value) to add, and the other spellings under which the command may already have it. */
export interface Flag {
  words: string[];
  aliases?: string[];
}

export interface DevServer {
  name: string;
  /** Reads PORT itself (Next): only the loopback flags are added. */
  readsPort?: boolean;
  /** Flags that set the port, recognised when already present. */
  portFlags: string[];
  /** A port given as an argument instead (`http.server 8000`, `runserver 0.0.0.0:8000`, `php -S host:8000`). */
  portArgument?: (args: string[]) => string | undefined;
  /** What sets port N (for a tool that takes an address, the address: `127.0.0.1:N`). */
  port: (port: number) => Flag[];
  /** What keeps it on loopback (127.0.0.1), where the port flags do not already. */
  loopback: Flag[];
  /** Anything else it needs behind the proxy (webpack-dev-server's HMR socket URL). */
  extra?: Flag[];
  /** How to make it listen on loopback only, for advice (`-H 127.0.0.1`). */
  loopbackHint: string;
}

export interface ServerEntry {
  /** Program names: a binary, a Python module (`python -m http.server`), a script (`python manage.py`). */
  bins: string[];
  /**
   * The sub-commands that start a server ('' for the bare command: `vite`, `vite apps/web`); null: every
   * invocation serves. A function decides from the positional arguments and all arguments.
   */
  subcommands: string[] | null | ((positional: string[], args: string[]) => boolean);
  server: DevServer;
  /** Options of the tool that take a value (so that value is not read as a sub-command or port). */
  valueOptions?: string[];
}

const LOOPBACK = '127.0.0.1';
const flag = (words: string[], ...aliases: string[]): Flag => ({ words, aliases });
const portFlag = (name: string, ...aliases: string[]) => (p: number) => [flag([name, String(p)], ...aliases)];
const hostFlag = (name: string, ...aliases: string[]): Flag[] => [flag([name, LOOPBACK], ...aliases)];

/** The port of an address argument: `0.0.0.0:8000` → 8000, `8000` → 8000, `[::]:$PORT` → $PORT. */
function addressPort(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return value.slice(value.lastIndexOf(':') + 1);
}

/** Positional arguments, skipping the values of `valueOptions`. */
export function positionals(args: string[], valueOptions: string[] = []): string[] {
  const found: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!;
    if (word === '--') continue;
    if (word.startsWith('-')) {
      if (valueOptions.includes(word)) i++;
      continue;
    }
    found.push(word);
  }
  return found;
}

/** The value following `flag` (or given as `flag=value`), if any. */
function valueOf(args: string[], names: string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    for (const name of names) {
      if (args[i] === name) return args[i + 1];
      if (args[i]!.startsWith(`${name}=`)) return args[i]!.slice(name.length + 1);
    }
  }
  return undefined;
}

const viteLike = (name: string): DevServer => ({
  name,
  portFlags: ['--port'],
  // --strictPort: fail rather than move to another port when ours is taken.
  port: (p) => [flag(['--port', String(p)]), flag(['--strictPort'])],
  loopback: hostFlag('--host'),
  loopbackHint: '--host 127.0.0.1',
});

const withHost = (name: string, portFlags = ['--port'], extra: Flag[] = []): DevServer => ({
  name,
  portFlags,
  port: portFlag('--port', ...portFlags.filter((f) => f !== '--port')),
  loopback: hostFlag('--host'),
  extra,
  loopbackHint: '--host 127.0.0.1',
});

// `--ci`: storybook neither prompts nor opens a browser (it would wait for an answer on a stdin it never gets).
const storybook = withHost('storybook', ['-p', '--port'], [flag(['--ci'])]);

// The HMR client builds its socket URL from the host and port it was started with (ws://127.0.0.1:N/ws), which
// bypasses the proxy and is refused as cross-origin ("Invalid Host/Origin header"). 0.0.0.0, port 0 and the
// `auto` protocol make the client use the page's own location instead (client-src/index.js, createSocketURL).
const webpackDevServer = withHost('webpack-dev-server', ['--port'], [flag(['--client-web-socket-url', 'auto://0.0.0.0:0/ws'])]);

const python = {
  httpServer: {
    name: 'http.server',
    portFlags: [],
    portArgument: (args) => positionals(args, HTTP_SERVER_OPTIONS)[0],
    port: (p) => [flag([String(p)])],
    loopback: hostFlag('--bind', '-b'),
    loopbackHint: '--bind 127.0.0.1',
  } satisfies DevServer,
  flask: {
    name: 'flask',
    portFlags: ['--port', '-p'],
    port: portFlag('--port', '-p'),
    loopback: hostFlag('--host', '-h'),
    loopbackHint: '--host 127.0.0.1',
  } satisfies DevServer,
  // runserver takes one `[addr:]port` argument and binds 127.0.0.1 when it has no address.
  django: {
    name: 'django runserver',
    portFlags: [],
    portArgument: (args) => addressPort(positionals(args, DJANGO_OPTIONS)[1]),
    port: (p) => [flag([`${LOOPBACK}:${p}`])],
    loopback: [],
    loopbackHint: 'runserver 127.0.0.1:$PORT',
  } satisfies DevServer,
  uvicorn: withHost('uvicorn'),
  // gunicorn binds 0.0.0.0:$PORT when PORT is set, which portbroker always does.
  gunicorn: {
    name: 'gunicorn',
    portFlags: [],
    portArgument: (args) => addressPort(valueOf(args, ['--bind', '-b'])),
    port: (p) => [flag(['--bind', `${LOOPBACK}:${p}`], '-b')],
    loopback: [],
    loopbackHint: '--bind 127.0.0.1:$PORT',
  } satisfies DevServer,
};

const HTTP_SERVER_OPTIONS = ['--bind', '-b', '--directory', '-d', '--protocol', '-p'];
const DJANGO_OPTIONS = ['--settings', '--pythonpath', '--verbosity', '-v'];

/** `php -S <addr:port>`: the address is the value of -S, so it is added only when -S ends the command. */
const phpBuiltin: DevServer = {
  name: 'php -S',
  portFlags: [],
  portArgument: (args) => addressPort(valueOf(args, ['-S'])),
  port: (p) => [flag([`${LOOPBACK}:${p}`])],
  loopback: [],
  loopbackHint: '-S 127.0.0.1:$PORT',
};

const next: DevServer = {
  name: 'next',
  readsPort: true,
  portFlags: ['-p', '--port'],
  port: () => [],
  loopback: hostFlag('-H', '--hostname'),
  loopbackHint: '-H 127.0.0.1 (or --hostname 127.0.0.1)',
};

const rails: DevServer = {
  name: 'rails server',
  portFlags: ['-p', '--port'],
  port: portFlag('-p', '--port'),
  loopback: hostFlag('-b', '--binding'),
  loopbackHint: '-b 127.0.0.1',
};

export const SERVERS: ServerEntry[] = [
  { bins: ['vite'], subcommands: ['', 'dev', 'serve', 'preview'], server: viteLike('vite') },
  { bins: ['react-router'], subcommands: ['dev'], server: viteLike('react-router') },
  { bins: ['remix'], subcommands: ['vite:dev'], server: viteLike('remix') },
  { bins: ['astro'], subcommands: ['dev', 'preview'], server: withHost('astro') },
  { bins: ['ng'], subcommands: ['serve', 's', 'dev'], server: withHost('ng serve') },
  { bins: ['storybook', 'sb'], subcommands: ['dev'], server: storybook },
  { bins: ['start-storybook'], subcommands: null, server: storybook },
  { bins: ['rsbuild'], subcommands: ['dev', 'preview'], server: withHost('rsbuild') },
  { bins: ['webpack', 'webpack-cli'], subcommands: ['serve', 'server', 's'], server: webpackDevServer },
  { bins: ['webpack-dev-server'], subcommands: null, server: webpackDevServer },
  { bins: ['docusaurus'], subcommands: ['start', 'serve'], server: withHost('docusaurus') },
  { bins: ['gatsby'], subcommands: ['develop', 'serve'], server: withHost('gatsby', ['-p', '--port']) },
  { bins: ['next'], subcommands: ['', 'dev', 'start'], server: next },
  { bins: ['http.server'], subcommands: null, server: python.httpServer, valueOptions: HTTP_SERVER_OPTIONS },
  { bins: ['flask'], subcommands: (positional) => positional.includes('run'), server: python.flask },
  {
    bins: ['manage.py', 'django-admin', 'django'],
    subcommands: (positional) => positional[0] === 'runserver',
    server: python.django,
    valueOptions: DJANGO_OPTIONS,
  },
  { bins: ['uvicorn'], subcommands: null, server: python.uvicorn },
  { bins: ['fastapi'], subcommands: ['dev', 'run'], server: withHost('fastapi') },
  { bins: ['gunicorn'], subcommands: null, server: python.gunicorn },
  { bins: ['rails'], subcommands: ['server', 's'], server: rails },
  // -S must be followed by its address, or end the command (then the address is appended).
  { bins: ['php'], subcommands: (_p, args) => args.includes('-S') && !(args[args.indexOf('-S') + 1] ?? '').startsWith('-'), server: phpBuiltin },
  { bins: ['artisan'], subcommands: ['serve'], server: withHost('artisan serve') },
  { bins: ['hugo'], subcommands: ['server', 'serve'], server: { ...withHost('hugo', ['-p', '--port']), loopback: hostFlag('--bind'), loopbackHint: '--bind 127.0.0.1' } },
  { bins: ['jekyll'], subcommands: ['serve', 's', 'server'], server: { ...withHost('jekyll', ['-P', '--port']), loopback: hostFlag('--host', '-H') } },
];
