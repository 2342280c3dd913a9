import { realpathSync } from 'node:fs';
import path from 'node:path';

/**
 * How the user ran portbroker, so every hint it prints can be pasted back: `npx portbroker …` when it runs from
 * a project's node_modules (installed with `npm i -D`) or through npx, where a bare `portbroker` is "command not
 * found"; `portbroker …` when it is installed globally or linked. Core messages name commands as
 * `portbroker <command>`; the CLI rewrites them once, here, on their way out.
 */
export function invokedAs(env: NodeJS.ProcessEnv = process.env, script = process.argv[1]): string {
  if (env.npm_command === 'exec') return 'npx portbroker';
  let real = script ?? '';
  try {
    real = realpathSync(real);
  } catch {
    // not a file (a test harness): judged by the path as given
  }
  return real.split(path.sep).includes('node_modules') ? 'npx portbroker' : 'portbroker';
}

const COMMANDS = 'up|run|port|url|env|ls|who|doctor|release|proxy|alias|init|logs|restart|stop|start|down|hosts|trust|mcp';
const HINT = new RegExp(`(^|[\\s\`'"(])portbroker (?=(?:${COMMANDS}|--help)(?:[\\s\`'")]|$))`, 'gm');

/** `run \`portbroker up web\`` → `run \`npx portbroker up web\`` when that is how portbroker was run. */
export function withInvocation(text: string, name = invokedAs()): string {
  if (name === 'portbroker') return text;
  return text.replace(HINT, `$1${name} `);
}
