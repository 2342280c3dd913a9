import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/resolve.js';
import { validateConfig } from '../../src/config/validate.js';
import { resolveSettings } from '../../src/config/settings.js';
import type { Project } from '../../src/project/open.js';
import { describeReload, planReload, unappliable, type Selection } from '../../src/runner/config-reload.js';

/** Which services a config edit restarts, adds, removes or drops: the rules of `config-reload.ts`. */

const FILE = '/src/shop/portbroker.config.json';

/** A project as `openProject` gives it, with the given ports reserved. */
function project(raw: Record<string, unknown>, ports: Record<string, number>): Project {
  const config = resolveConfig(validateConfig({ name: 'shop', ...raw }, FILE), FILE);
  const settings = resolveSettings({ env: {}, config });
  const services = Object.fromEntries(Object.entries(ports).map(([name, port]) => [name, { port, state: 'reserved' as const, hostnames: [], proxy: true, reservedAt: '2026-11-30T00:00:00.000Z' }]));
  return { config, settings, checkout: { project: 'shop', label: '', root: config.root, services } };
}

const all = (p: Project): Selection => ({ project: p, services: p.config.order, startNow: p.config.order });

describe('planReload', () => {
  const base = { services: { api: { command: 'node api.js' }, web: { command: 'node web.js', dependsOn: ['api'] } } };
  const ports = { api: 61001, web: 61002 };

  it('an unchanged config plans nothing; a changed command, env or readiness pattern restarts only that service', () => {
    const before = project(base, ports);
    expect(planReload(all(before), all(project(base, ports)))).toEqual({ added: [], removed: [], dropped: [], changed: [] });
    for (const api of [{ command: 'node api.js --v2' }, { command: 'node api.js', env: { A: '1' } }, { command: 'node api.js', ready: { log: 'up' } }]) {
      expect(planReload(all(before), all(project({ services: { ...base.services, api } }, ports))).changed).toEqual(['api']);
    }
    // Two readiness patterns differ even though both are RegExps (JSON would print each as {}).
    const logA = project({ services: { ...base.services, api: { command: 'node api.js', ready: { log: 'a' } } } }, ports);
    const logB = project({ services: { ...base.services, api: { command: 'node api.js', ready: { log: 'b' } } } }, ports);
    expect(planReload(all(logA), all(logB)).changed).toEqual(['api']);
  });

  it('a variable that only appears (an added sibling) restarts nothing; one whose value moved (a sibling pinned elsewhere) restarts all who had it', () => {
    const before = project(base, ports);
    const added = project({ services: { ...base.services, worker: { command: 'node w.js' } } }, { ...ports, worker: 61003 });
    expect(planReload(all(before), all(added))).toEqual({ added: ['worker'], removed: [], dropped: [], changed: [] });
    const moved = project({ services: { ...base.services, api: { command: 'node api.js', port: 62000 } } }, { ...ports, api: 62000 });
    expect(planReload(all(before), all(moved)).changed).toEqual(['api', 'web']);
  });

  it('deleted from the config is removed; still declared but no longer needed by `up web` is dropped', () => {
    const before = project(base, ports);
    const deleted = project({ services: { web: { command: 'node web.js' } } }, { web: 61002 });
    // web no longer depends on api: its spec changed too.
    expect(planReload(all(before), all(deleted))).toEqual({ added: [], removed: ['api'], dropped: [], changed: ['web'] });
    const independent = project({ services: { api: base.services.api, web: { command: 'node web.js' } } }, ports);
    const upWeb = (p: Project, services: string[]): Selection => ({ project: p, services, startNow: services });
    expect(planReload(upWeb(before, ['api', 'web']), upWeb(independent, ['web']))).toEqual({ added: [], removed: [], dropped: ['api'], changed: ['web'] });
  });

  it('refuses what a running up cannot change, and summarises in one line', () => {
    const before = project(base, ports);
    expect(unappliable(before, project({ ...base, name: 'store' }, ports))).toMatch(/^the project name \(shop → store\) changed, which a running up cannot apply/);
    expect(unappliable(before, project({ ...base, proxy: { port: 8080 } }, ports))).toMatch(/the proxy port \(7355 → 8080\) changed/);
    expect(unappliable(before, project(base, ports))).toBeUndefined();
    const line = describeReload(
      { added: ['worker'], removed: ['docs'], dropped: [], changed: ['api', 'web'] },
      { restarted: ['api'], updated: ['web'], elsewhere: new Map() },
      'portbroker.config.json',
    );
    expect(line).toBe('applied portbroker.config.json: restarted api; added worker; removed docs (port and route released); updated web (not running: applies at the next start)');
  });
});
