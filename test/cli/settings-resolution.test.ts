import { describe, expect, it } from 'vitest';
import { fixture } from '../helpers/cli.js';

/**
 * Every command resolves settings and config the same way (project/context.ts): a config named with --config must
 * load wherever it is given; a broken config found by searching stops the commands that work on the project and
 * not those that work on the machine; doctor reports it.
 */
describe('one settings resolution', () => {
  const broken = { 'portbroker.config.json': '{ "services": { "web": { "comand": "x" } } }' };

  it('a config named with --config must load, for every command that takes it', async () => {
    const fx = await fixture({ 'portbroker.config.json': JSON.stringify({ services: { web: {} } }) });
    for (const args of [['ls'], ['ls', '--all'], ['release', '--stale'], ['release', '--all'], ['proxy', 'status'], ['port', 'web']]) {
      const result = await fx.run([...args, '--config', 'nope.json']);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toMatch(/nope\.json.*no such file/);
    }
  });

  it('a broken config found by searching stops project commands, not machine commands; doctor reports it', async () => {
    const fx = await fixture(broken);
    for (const args of [['ls'], ['port', 'web'], ['release']]) {
      const result = await fx.run(args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain('services.web.comand: unknown field "comand"');
    }
    for (const args of [['ls', '--all'], ['release', '--stale'], ['proxy', 'status'], ['alias', 'db', '5432']]) {
      const result = await fx.run(args);
      // proxy status exits 1 when no proxy runs: not a config error.
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(args[0] === 'proxy' ? 1 : 0);
      expect(result.stderr).not.toContain('comand');
    }
    const doctor = await fx.run(['doctor', '--json']);
    const checks = JSON.parse(doctor.stdout) as Array<{ id: string; status: string; message: string }>;
    expect(checks.find((c) => c.id === 'config')).toMatchObject({ status: 'fail', message: expect.stringContaining('comand') });
  });

  it('the proxy port comes from the same place for every command: flag, then environment, then config', async () => {
    const fx = await fixture({ 'portbroker.config.json': JSON.stringify({ proxy: { port: 7999 }, services: { web: {} } }) });
    const env = { PORTBROKER_PROXY_PORT: '' };
    const url = async (args: string[]) => (await fx.run(args, { env })).stdout.trim();
    expect(await url(['url', 'web'])).toMatch(/:7999$/);
    const status = JSON.parse(await url(['proxy', 'status', '--json'])) as { port: number };
    expect(status.port).toBe(7999);
    const all = JSON.parse(await url(['ls', '--all', '--json'])) as Array<{ url: string }>;
    expect(all[0]!.url).toMatch(/:7999$/);
    expect(await url(['url', 'web', '--proxy-port', '7998'])).toMatch(/:7998$/);
  });
});
