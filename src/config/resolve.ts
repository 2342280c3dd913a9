import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, type ConfigProblem } from '../errors.js';
import { DEFAULTS, type ProjectConfig, type ServiceSpec } from './project-config.js';
import { expandHostname, isDnsLabel, RESERVED_SERVICE_NAMES, toDnsLabel } from './names.js';
import type { PortbrokerConfigInput } from './schema.js';

/**
 * Turns a schema-valid config into a `ProjectConfig`: absolute cwds, defaults, expanded hostnames and a
 * dependency order. Checks what the schema cannot (names, references, cycles, clashing pins) and throws one
 * `ConfigError` listing every problem.
 */
export function resolveConfig(raw: PortbrokerConfigInput, file: string): ProjectConfig {
  const problems: ConfigProblem[] = [];
  const dir = path.dirname(file);
  const root = configRoot(file);
  const names = Object.keys(raw.services);
  const projectGrace = raw.shutdownGraceMs ?? DEFAULTS.shutdownGraceMs;

  if (raw.name !== undefined && !isDnsLabel(raw.name)) {
    problems.push({ path: 'name', message: `"${raw.name}" is not a DNS label (a-z, 0-9 and "-", 1-63 characters, no "-" at either end)` });
  }
  if (names.length === 0) problems.push({ path: 'services', message: 'declares no service; add one, e.g. services: { web: { command: "npm run dev" } }' });

  const range = raw.ports?.range;
  if (range && range[0] > range[1]) {
    problems.push({ path: 'ports.range', message: `start ${range[0]} is above end ${range[1]}; write [low, high]` });
  }

  const services: Record<string, ServiceSpec> = {};
  const pinnedBy = new Map<number, string>();
  const hostOwner = new Map<string, string>();

  for (const name of names) {
    const s = raw.services[name]!;
    const at = `services.${name}`;
    if (!isDnsLabel(name)) {
      problems.push({ path: at, message: `"${name}" is not a valid service name: use a-z, 0-9 and "-" (1-63 characters, no "-" at either end)` });
    } else if (RESERVED_SERVICE_NAMES.has(name)) {
      problems.push({ path: at, message: `"${name}" is reserved for portbroker itself (its dashboard and its own log stream); pick another name` });
    }

    if (s.port !== undefined) {
      const other = pinnedBy.get(s.port);
      if (other) problems.push({ path: `${at}.port`, message: `port ${s.port} is already pinned by service "${other}"` });
      else pinnedBy.set(s.port, name);
    }
    if (s.start === 'on-demand' && !s.command) {
      problems.push({ path: `${at}.start`, message: '"on-demand" needs a command to start' });
    }
    if (s.start === 'on-demand' && s.proxy === false) {
      problems.push({ path: `${at}.start`, message: '"on-demand" services are started by a request through the proxy, so they cannot have proxy: false' });
    }
    if (s.idleStopMs !== undefined && s.start !== 'on-demand') {
      problems.push({ path: `${at}.idleStopMs`, message: 'only applies to start: "on-demand" services' });
    }

    if (s.url !== undefined) {
      if (s.proxy !== false) problems.push({ path: `${at}.url`, message: 'only applies to proxy: false services (an HTTP service\'s URL goes through the proxy)' });
      for (const match of s.url.matchAll(/\$\{([^}]*)\}/g)) {
        if (match[1] !== 'port') problems.push({ path: `${at}.url`, message: `unknown reference "${match[0]}"; a url may use \${port}` });
      }
    }

    const dependsOn = s.dependsOn ?? [];
    dependsOn.forEach((dep, i) => {
      if (dep === name) problems.push({ path: `${at}.dependsOn[${i}]`, message: `"${name}" cannot depend on itself` });
      else if (!(dep in raw.services)) {
        problems.push({ path: `${at}.dependsOn[${i}]`, message: `unknown service "${dep}" (declared: ${names.join(', ')})` });
      }
    });

    const hostnames: string[] = [];
    (s.hostnames ?? []).forEach((h, i) => {
      const host = expandHostname(h);
      const labels = host.split('.');
      if (!labels.every(isDnsLabel)) {
        problems.push({ path: `${at}.hostnames[${i}]`, message: `"${h}" is not a valid host name` });
        return;
      }
      const owner = hostOwner.get(host);
      if (owner) problems.push({ path: `${at}.hostnames[${i}]`, message: `"${h}" is already routed to service "${owner}"` });
      hostOwner.set(host, name);
      hostnames.push(host);
    });

    const cwd = path.resolve(dir, s.cwd ?? '.');
    if (s.cwd !== undefined && s.command && !existsSync(cwd)) {
      problems.push({ path: `${at}.cwd`, message: `folder "${s.cwd}" does not exist (resolved to ${cwd})` });
    }

    for (const [key, value] of Object.entries(s.env ?? {})) {
      for (const match of String(value).matchAll(/\$\{([^}]*)\}/g)) {
        const ref = /^(?:([a-z0-9-]+)\.)?(port|url)$/.exec(match[1]!);
        if (!ref) {
          problems.push({ path: `${at}.env.${key}`, message: `unknown reference "${match[0]}"; use \${port}, \${url}, \${<service>.port} or \${<service>.url}` });
        } else if (ref[1] && !(ref[1] in raw.services)) {
          problems.push({ path: `${at}.env.${key}`, message: `"${match[0]}" names unknown service "${ref[1]}" (declared: ${names.join(', ')})` });
        } else if (ref[2] === 'url' && hasNoUrl(raw.services[ref[1] ?? name])) {
          problems.push({
            path: `${at}.env.${key}`,
            message: `"${match[0]}": ${ref[1] ?? name} has no URL (proxy: false); use \${${ref[1] ? `${ref[1]}.` : ''}port}, or give it one with url: 'scheme://127.0.0.1:\${port}'`,
          });
        }
      }
    }

    let log: RegExp | undefined;
    if (s.ready?.log !== undefined) {
      try {
        log = typeof s.ready.log === 'string' ? new RegExp(s.ready.log) : s.ready.log;
      } catch (error) {
        problems.push({ path: `${at}.ready.log`, message: `not a valid regular expression: ${(error as Error).message}` });
      }
    }

    services[name] = {
      name,
      command: s.command,
      cwd,
      env: Object.fromEntries(Object.entries(s.env ?? {}).map(([k, val]) => [k, String(val)])),
      port: s.port,
      portEnv: s.portEnv ?? [],
      hostnames,
      proxy: s.proxy ?? true,
      url: s.url,
      dependsOn,
      ready: { http: s.ready?.http, tcp: s.ready?.tcp, log, timeoutMs: s.ready?.timeoutMs ?? DEFAULTS.readyTimeoutMs },
      restart: s.restart ?? 'on-failure',
      start: s.start ?? 'always',
      idleStopMs: s.idleStopMs,
      shutdownGraceMs: s.shutdownGraceMs ?? projectGrace,
    };
  }

  const { order, cycle } = dependencyOrder(services);
  if (cycle) problems.push({ path: `services.${cycle[0]}.dependsOn`, message: `dependency cycle: ${cycle.join(' → ')}` });

  if (problems.length > 0) throw new ConfigError(displayPath(file), problems);

  return {
    file,
    root,
    name: raw.name ?? defaultProjectName(root),
    proxy: { port: raw.proxy?.port, https: raw.proxy?.https },
    range: range ? [range[0], range[1]] : undefined,
    hosts: raw.hosts,
    services,
    order,
  };
}

function hasNoUrl(service: { proxy?: boolean; url?: string } | undefined): boolean {
  return service?.proxy === false && service.url === undefined;
}

/** A config in `.config/` belongs to the folder above it. */
export function configRoot(file: string): string {
  const dir = path.dirname(file);
  return path.basename(dir) === '.config' ? path.dirname(dir) : dir;
}

/** package.json name (scope dropped), else the folder name, as a DNS label. */
export function defaultProjectName(root: string): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { name?: unknown };
    if (typeof pkg.name === 'string' && pkg.name) return toDnsLabel(pkg.name);
  } catch {
    // no package.json, or not JSON: use the folder
  }
  return toDnsLabel(path.basename(root));
}

/**
 * Depth-first topological sort; ties keep declaration order so output is predictable. Returns the first
 * cycle found (as a closed path) instead of an order when there is one.
 */
function dependencyOrder(services: Record<string, ServiceSpec>): { order: string[]; cycle?: string[] } {
  const order: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  let cycle: string[] | undefined;

  const visit = (name: string): void => {
    if (cycle || state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      cycle = [...stack.slice(stack.indexOf(name)), name];
      return;
    }
    state.set(name, 'visiting');
    stack.push(name);
    for (const dep of services[name]?.dependsOn ?? []) if (dep in services && dep !== name) visit(dep);
    stack.pop();
    state.set(name, 'done');
    order.push(name);
  };
  for (const name of Object.keys(services)) visit(name);
  return cycle ? { order: [], cycle } : { order };
}

/** Paths in messages are relative to where the user stands when that is shorter. */
export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') && rel.length < file.length ? rel : file;
}
