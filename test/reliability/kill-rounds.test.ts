import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, runCli, startCli, type Fixture, type RunResult } from '../helpers/cli.js';
import { fixtureProcesses, SERVE } from '../runner/helpers.js';

/**
 * 50 rounds of `kill -9` at random moments of `port`, `up` and `release`, while two other projects reserve new
 * services at the same time. After every round: the registry parses, every reservation a finished command
 * reported is still there on the same port (unless a release asked for it), and no port is held twice.
 */

const ROUNDS = 50;

interface Registry {
  checkouts: Record<string, { services: Record<string, { port: number }> }>;
  aliases: Record<string, { port: number }>;
}

function services(count: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...Object.fromEntries(Array.from({ length: count }, (_, i) => [`s${i}`, {}])), ...extra };
}

describe('the registry under kill -9 (issue 7)', () => {
  it(`${ROUNDS} rounds of SIGKILL at random moments of port/up/release, with others reserving: nothing lost, changed or duplicated`, async () => {
    const shared = await fixture({});
    const env = shared.env;
    const victim = await fixture({});
    const runner = await fixture({ 'serve.mjs': SERVE });
    const others = [await fixture({}), await fixture({})];
    const writeConfig = (fx: Fixture, name: string, svc: Record<string, unknown>) =>
      fx.write('portbroker.config.json', JSON.stringify({ name, services: svc }));
    runner.write('portbroker.config.json', JSON.stringify({ name: 'runner', services: { a: { command: 'node serve.mjs' }, b: { command: 'node serve.mjs', dependsOn: ['a'] } } }));

    /** root → service → port, as finished commands reported them. */
    const confirmed = new Map<string, Map<string, number>>();
    const confirm = (root: string, service: string, port: number) => {
      const known = confirmed.get(root) ?? new Map<string, number>();
      confirmed.set(root, known);
      const before = known.get(service);
      if (before !== undefined) expect(port, `${root} ${service} kept its port`).toBe(before);
      known.set(service, port);
    };
    const confirmLs = (fx: Fixture, result: RunResult) => {
      expect(result.stderr, result.stderr).toBe('');
      expect(result.code).toBe(0);
      for (const row of JSON.parse(result.stdout) as Array<{ service: string; port: number }>) confirm(fx.root, row.service, row.port);
    };

    const stats = { rounds: 0, killed: 0, finished: 0 };
    const killedAt: Record<string, number> = { port: 0, up: 0, release: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      writeConfig(victim, 'victim', services(round + 2));
      others.forEach((fx, i) => writeConfig(fx, `other-${i}`, services(round + 3)));
      const kind = (['port', 'up', 'release'] as const)[round % 3]!;
      const victimKnown = confirmed.get(victim.root);
      const releasable = victimKnown ? [...victimKnown.keys()] : [];
      const target = kind === 'release' && releasable.length > 0 ? releasable[Math.floor(Math.random() * releasable.length)]! : undefined;
      const args = kind === 'port' ? ['port', `s${round + 1}`] : kind === 'up' ? ['up'] : target ? ['release', target] : ['port', 's0'];
      const cwd = kind === 'up' ? runner.root : victim.root;

      const killed = startCli(args, { cwd, env });
      const reservers = others.map((fx) => runCli(['ls', '--json'], { cwd: fx.root, env, timeoutMs: 60_000 }));
      // A random moment, from right after the spawn to past the end of the command on this machine's usual load
      // (some finish first: the range covers their whole run, the locked write included).
      await new Promise((resolve) => setTimeout(resolve, Math.random() * (kind === 'up' ? 5_000 : 2_500)));
      const exitedFirst = killed.child.exitCode !== null;
      // Only the portbroker process, as `kill -9 <pid>` would: what it started is left to the next `up`.
      killed.child.kill('SIGKILL');
      const result = await killed.exited;
      if (exitedFirst || result.signal !== 'SIGKILL') {
        stats.finished++;
        if (result.code === 0 && kind === 'port') confirm(victim.root, `s${round + 1}`, Number(result.stdout));
      } else {
        stats.killed++;
        killedAt[kind]!++;
      }
      // A release, finished or killed, may have dropped its target: it is no longer promised to keep its port.
      if (target) confirmed.get(victim.root)?.delete(target);

      (await Promise.all(reservers)).forEach((r, i) => confirmLs(others[i]!, r));

      // The registry parses, holds every confirmed reservation unchanged, and no port twice.
      const data = JSON.parse(readFileSync(path.join(env.PORTBROKER_HOME!, 'registry.json'), 'utf8')) as Registry;
      for (const [root, known] of confirmed) {
        for (const [service, port] of known) expect(data.checkouts[root]?.services[service]?.port, `round ${round}: ${root} ${service}`).toBe(port);
      }
      const ports = [
        ...Object.values(data.checkouts).flatMap((c) => Object.values(c.services).map((s) => s.port)),
        ...Object.values(data.aliases).map((a) => a.port),
      ];
      expect(new Set(ports).size, `round ${round}: duplicate ports ${ports.join(',')}`).toBe(ports.length);
      // What the victim holds now is promised from here on.
      for (const [service, rec] of Object.entries(data.checkouts[victim.root]?.services ?? {})) confirm(victim.root, service, rec.port);
      stats.rounds++;
    }

    // A last `ls` of every project agrees with everything confirmed.
    for (const fx of [victim, ...others]) confirmLs(fx, await runCli(['ls', '--json'], { cwd: fx.root, env }));
    // The last killed `up` left its services running: the next `up` ends them; then nothing of the runner is left.
    const up = startCli(['up'], { cwd: runner.root, env });
    await up.waitFor(/SERVICE\s+PORT/, 60_000);
    await up.stop();
    expect(fixtureProcesses(shared)).toEqual([]);
    expect(stats.rounds).toBe(ROUNDS);
    // The figures for the closing note.
    console.log(`kill rounds: ${stats.rounds} survived, ${stats.killed} killed mid-command (port ${killedAt.port}, up ${killedAt.up}, release ${killedAt.release}), ${stats.finished} finished first; reservations lost or changed: 0`);
  }, 900_000);
});
