import { expandHostname, isDnsLabel, qualifiedHost, urlFor } from '../config/names.js';
import { PortbrokerError, UsageError } from '../errors.js';
import { findListeners } from '../platform/sockets.js';
import { readRegistry, updateRegistry } from '../ports/registry.js';
import { DASHBOARD_HOST } from '../proxy/route-table.js';
import { runningProxy } from '../proxy/state.js';
import type { CommonOptions } from '../project/open.js';
import { machineSettings } from './machine-settings.js';
import { requirePort } from '../config/settings.js';

export interface AliasOptions extends CommonOptions {
  remove?: boolean;
}

export interface AliasResult {
  host: string;
  port: number;
  url: string;
  /** `--remove`: the alias was there and is gone. */
  removed: boolean;
  /** Something listens on the port now (an alias to a port nobody serves yet is allowed). */
  listening: boolean;
}

/**
 * A static route: `<name>.localhost` → `port`, for servers portbroker does not start (a container, a server
 * run by hand). Stored in the registry, so the proxy picks it up live and `ls --all` lists it.
 */
export async function alias(name: string, port: number | string | undefined, options: AliasOptions = {}): Promise<AliasResult> {
  const host = aliasHost(name);
  const settings = await machineSettings(options);
  const proxyPort = runningProxy(settings.home)?.port ?? settings.proxyPort;
  const url = urlFor(host, proxyPort, settings.https);

  if (options.remove) {
    const removed = await updateRegistry(
      settings.home,
      (data) => {
        const existing = data.aliases[host];
        delete data.aliases[host];
        return existing;
      },
      options,
    );
    if (!removed) throw new PortbrokerError(`there is no alias ${host}`, { details: ['portbroker ls --all lists the aliases'] });
    return { host, port: removed.port, url, removed: true, listening: findListeners(removed.port).length > 0 };
  }

  if (port === undefined) throw new UsageError(`alias ${name}: give the port to route to, e.g. portbroker alias ${name} 8081 (or --remove)`);
  const n = requirePort(port, `alias ${name}`);
  if (n === proxyPort) throw new UsageError(`port ${n} is the proxy's own port: the alias would loop; give the port the server listens on`);
  const owner = serviceNamed(host, settings.home, options);
  if (owner) throw new UsageError(`${host} is the name of service ${owner}; choose another alias name`);
  await updateRegistry(
    settings.home,
    (data) => {
      if (data.aliases[host]?.port !== n) data.aliases[host] = { port: n, createdAt: new Date().toISOString() };
    },
    options,
  );
  return { host, port: n, url, removed: false, listening: findListeners(n).length > 0 };
}

/** `docker-api` → `docker-api.localhost`; a full `*.localhost` name is kept. */
export function aliasHost(name: string): string {
  const host = expandHostname(name.trim());
  const labels = host.split('.');
  if (host === 'localhost' || host === DASHBOARD_HOST || !labels.every(isDnsLabel)) {
    throw new UsageError(`"${name}" cannot be an alias: use a DNS name such as docker-api (letters, digits and -), not localhost or portbroker`);
  }
  return host;
}

function serviceNamed(host: string, home: string, options: CommonOptions): string | undefined {
  for (const checkout of Object.values(readRegistry(home, options).checkouts)) {
    for (const service of Object.keys(checkout.services)) {
      if (qualifiedHost(service, checkout.project, checkout.label) === host) return `${service} of ${checkout.project}`;
    }
  }
  return undefined;
}
