#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { cac } from 'cac';
import { withInvocation } from './invocation.js';
import { insertRunSeparator } from './run-argv.js';
import { run, type CliOptions } from './run.js';

/**
 * The `portbroker` binary: declares commands and flags, then hands each command to its module in
 * ./commands, loaded only when that command runs (start-up time matters: `portbroker port web` is run inside
 * scripts, often many times).
 */

const cli = cac('portbroker');

cli
  .option('--config <file>', 'Use this config file instead of searching from the current folder up')
  .option('--cwd <dir>', 'Run as if started in <dir>')
  .option('--json', 'Print JSON (read commands)')
  .option('--proxy-port <port>', 'Port of the shared proxy (default 7355; PORTBROKER_PROXY_PORT)');

const HTTPS_HELP = 'Serve HTTPS and HTTP/2 with a local CA; URLs become https://';

const upCommand = cli
  .command('up [...services]', 'Start the services (all by default, plus what they depend on), behind the proxy')
  .option('--https', HTTPS_HELP)
  .option('--abort-on-fail', 'Stop everything when one service fails to start')
  .option('-d, --detach', 'Keep the services running in the background and return once they are up (portbroker down stops them)')
  .option('--timestamps', 'Prefix output lines with the time')
  .option('--lan', 'Let the proxy listen on every interface (reachable from the network)')
  .option('--no-watch', 'Do not apply config edits while running (by default a saved edit restarts only the services it changes)')
  .example('  $ portbroker up')
  .example('  $ portbroker up api   # api and what it depends on')
  .action((services: string[], options: CliOptions) => run('up', [services], options));
// cac gives a negated flag the implied default true, and prints it after `--no-watch`, where it reads backwards.
for (const option of upCommand.options) if (option.negated) option.config.default = undefined;

cli
  .command('logs [...services]', "The services' output from their log files (all services without names)")
  .option('-f, --follow', 'Keep printing new lines as they are written')
  .option('-n, --lines <n>', 'Lines per service (default 200; all for everything kept)')
  .option('--since <when>', 'Only lines since a duration ago (30s, 5m, 2h) or an ISO time')
  .option('--timestamps', 'Prefix each line with the time it was printed')
  .example('  $ portbroker logs api -f')
  .example('  $ portbroker logs --since 10m --json')
  .action((services: string[], options: CliOptions) => run('logs', [services], options));

cli
  .command('restart <...services>', 'Restart services of a running project (from any terminal or folder of it)')
  .example('  $ portbroker restart api')
  .action((services: string[], options: CliOptions) => run('restart', [services], options));

cli
  .command('stop [...services]', 'Stop services of a running project (all without names); they stay reserved and routed')
  .example('  $ portbroker stop worker')
  .action((services: string[], options: CliOptions) => run('stop', [services], options));

cli
  .command('start <...services>', 'Start services of a running project again (after stop, or a crash)')
  .example('  $ portbroker start worker')
  .action((services: string[], options: CliOptions) => run('start', [services], options));

cli
  .command('down', "Stop the project's services and the portbroker running them (foreground or detached up)")
  .example('  $ portbroker down')
  .action((options: CliOptions) => run('down', [], options));

cli
  .command('run <name>', 'Run one command with a reserved port and a URL, without a config file')
  .usage('run <name> [--port N] [--] <command…>')
  .option('--port <port>', 'Pin the port instead of letting the allocator choose')
  .option('--https', HTTPS_HELP)
  .example('  $ portbroker run files -- python3 -m http.server {port}')
  .example('  $ portbroker run docs -- npx serve -l {port}')
  .action((name: string, options: CliOptions) => run('run', [name], options));

cli
  .command('port <service>', "Print the service's port, reserving it if new (the same number every time)")
  .example('  $ portbroker port web')
  .example('  $ curl "localhost:$(portbroker port api)/health"')
  .action((service: string, options: CliOptions) => run('port', [service], options));

cli
  .command('url <service>', "Print the service's URL")
  .example('  $ portbroker url web')
  .example('  $ open "$(portbroker url web)"')
  .action((service: string, options: CliOptions) => run('url', [service], options));

cli
  .command('env [service]', 'Print the environment a service gets (without one: every S_PORT and S_URL)')
  .option('--format <format>', 'dotenv, shell or json', { default: 'dotenv' })
  .example('  $ portbroker env web --format shell')
  .example('  $ portbroker env --format shell > .env.ports')
  .action((service: string | undefined, options: CliOptions) => run('env', [service], options));

cli
  .command('ls', "List this project's services: port, URL, state, pid")
  .alias('list')
  .option('--all', 'Every project on this machine, and the aliases')
  .option('--format <format>', 'table, or markdown for a ports table to paste into your docs')
  .example('  $ portbroker ls --all')
  .example('  $ portbroker ls --format markdown >> docs/ports.md')
  .action((options: CliOptions) => run('ls', [], options));

cli
  .command('who <port>', 'Which process listens on a port, and which reservation it belongs to')
  .example('  $ portbroker who 62893')
  .action((port: string, options: CliOptions) => run('who', [port], options));

cli
  .command('doctor', 'Check the proxy port, *.localhost, loopback, stale reservations, orphans, exposed services')
  .example('  $ portbroker doctor')
  .action((options: CliOptions) => run('doctor', [], options));

cli
  .command('release [...services]', "Drop reservations (this checkout's named services, or all of them)")
  .option('--stale', 'Drop reservations of checkouts that are gone and of services no longer in the config')
  .option('--all', 'Drop every reservation of every project')
  .example('  $ portbroker release web')
  .example('  $ portbroker release --stale')
  .action((services: string[], options: CliOptions) => run('release', [services], options));

cli
  .command('proxy <action>', 'The shared proxy on its own: start, stop or status')
  .option('--https', HTTPS_HELP)
  .option('--lan', 'Listen on every interface (reachable from the network)')
  .option('--foreground', 'Run the proxy in this process instead of as a daemon')
  .example('  $ portbroker proxy status --json')
  .action((action: string, options: CliOptions) => run('proxy', [action], options));

cli
  .command('alias <name> [port]', 'Route <name>.localhost to a port portbroker does not start (a container, a server run by hand)')
  .option('--remove', 'Remove the alias')
  .example('  $ portbroker alias docker-api 8081')
  .example('  $ portbroker alias docker-api --remove')
  .action((name: string, port: string | undefined, options: CliOptions) => run('alias', [name, port], options));

cli
  .command('trust', "Trust portbroker's local CA (HTTPS) in the system store and the browsers' NSS databases")
  .option('--remove', 'Take the CA out of them again')
  .example('  $ portbroker trust')
  .example('  $ portbroker trust --remove')
  .action((options: CliOptions) => run('trust', [], options));

cli
  .command('hosts <action>', 'The hosts-file block of *.localhost names for clients whose resolver lacks them: sync, clean or status')
  .example('  $ portbroker hosts sync')
  .example('  $ portbroker hosts status --json')
  .action((action: string, options: CliOptions) => run('hosts', [action], options));

cli
  .command('init', "Write a starting portbroker.config.ts from the workspace's packages and their dev scripts")
  .example('  $ portbroker init')
  .action((options: CliOptions) => run('init', [], options));

cli
  .command('mcp', 'A Model Context Protocol server on stdio: coding agents list services, read logs, get URLs')
  .example('  $ claude mcp add portbroker -- npx portbroker mcp')
  .action((options: CliOptions) => run('mcp', [], options));

cli.help();
cli.version(packageVersion());

await main();

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = cli.parse([...process.argv.slice(0, 2), ...insertRunSeparator(process.argv.slice(2))], { run: false });
  } catch (error) {
    usageFailure((error as Error).message);
    return;
  }
  if (parsed.options.help || parsed.options.version) return;
  if (!cli.matchedCommand) {
    const [word] = parsed.args;
    if (word === undefined) {
      cli.outputHelp();
      return;
    }
    usageFailure(`unknown command "${word}"`);
    return;
  }
  try {
    await cli.runMatchedCommand();
  } catch (error) {
    if ((error as Error).name === 'CACError') usageFailure((error as Error).message);
    else throw error;
  }
}

function usageFailure(message: string): void {
  // cac's own words for a missing argument ("missing required args for command `port <service>`"): said as the
  // command's need, with that command's help to read.
  const missing = /^missing required args for command `(\S+) (.+)`$/.exec(message);
  const [, command = '', args = ''] = missing ?? [];
  const [line, help] = missing
    ? [`${command} needs ${args.replace(/<\.\.\.(\w+)>/g, '<$1…>')}`, `portbroker ${command} --help`]
    : [message.replace(/`/g, '"'), 'portbroker --help'];
  process.stderr.write(`portbroker: ${line}\n${withInvocation(`Run \`${help}\``)} for ${missing ? 'its arguments' : 'the commands'} and their flags.\n`);
  process.exitCode = 2;
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}
