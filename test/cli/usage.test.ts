import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/cli.js';

const COMMANDS = ['up', 'run', 'port', 'url', 'env', 'ls', 'who', 'doctor', 'release', 'proxy', 'alias', 'init'];

describe('usage', () => {
  it('lists every command in --help', async () => {
    const fx = await fixture({});
    const result = await fx.run(['--help']);
    expect(result.code).toBe(0);
    for (const command of COMMANDS) expect(result.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
  });

  it('gives every command help with an example', async () => {
    const fx = await fixture({});
    for (const command of COMMANDS) {
      const result = await fx.run([command, '--help']);
      expect(result.code, command).toBe(0);
      expect(result.stdout, command).toMatch(/Examples:\n\s+\$ portbroker /);
    }
  });

  it('prints the version', async () => {
    const fx = await fixture({});
    expect((await fx.run(['--version'])).stdout).toMatch(/^portbroker\/\d+\.\d+\.\d+/);
  });

  it('exits 2 on an unknown command, an unknown flag or a missing argument', async () => {
    const fx = await fixture({ 'portbroker.config.json': JSON.stringify({ services: { web: {} } }) });
    for (const args of [['serve'], ['port', 'web', '--prot', '1'], ['port'], ['who']]) {
      const result = await fx.run(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(/^portbroker: .+\nRun `portbroker (\w+ )?--help`/);
    }
    // A missing argument is said as the command's need, with the command's own help.
    expect((await fx.run(['port'])).stderr).toBe('portbroker: port needs <service>\nRun `portbroker port --help` for its arguments and their flags.\n');
    expect((await fx.run(['restart'])).stderr).toMatch(/^portbroker: restart needs <services…>\n/);
    // Run as `npx portbroker` is (npm exec): the hint can be pasted back as it is.
    expect((await fx.run(['serve'], { env: { npm_command: 'exec' } })).stderr).toMatch(/\nRun `npx portbroker --help` for the commands/);
  });

  it('--cwd must name a folder: one line that says so, exit 2, nothing run', async () => {
    const fx = await fixture({ 'portbroker.config.json': JSON.stringify({ services: { web: {} } }) });
    const missing = await fx.run(['ls', '--cwd', '/nonexistent/portbroker-test']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^portbroker: --cwd \/nonexistent\/portbroker-test: no such folder\n/);
    const file = await fx.run(['ls', '--cwd', 'portbroker.config.json']);
    expect(file.code).toBe(2);
    expect(file.stderr).toMatch(/--cwd portbroker\.config\.json: not a folder/);
  });

  it('prints no colour codes when not on a TTY', async () => {
    const fx = await fixture({ 'portbroker.config.json': JSON.stringify({ services: { web: {} } }) });
    const result = await fx.run(['ls'], { env: { NO_COLOR: undefined } });
    expect(result.stdout).not.toMatch(/\u001b\[/);
  });
});
