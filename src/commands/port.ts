import { UsageError } from '../errors.js';
import { infoFromProject, type ServiceInfo } from './service-info.js';
import { openProject, serviceSpec, type CommonOptions } from '../project/open.js';

/** A service's port, reserving it (and the rest of the project's) when new. The same number every time. */
export async function port(service: string, options: CommonOptions = {}): Promise<ServiceInfo> {
  const project = await openProject(options);
  serviceSpec(project, service);
  return infoFromProject(project, service);
}

/** A service's URL: `http://web.acme.localhost:7355`. Same object as `port`; the CLI prints `.url`. */
export async function url(service: string, options: CommonOptions = {}): Promise<ServiceInfo & { url: string }> {
  const info = await port(service, options);
  if (info.url === null) {
    throw new UsageError(`${service} has no URL: it is proxy: false (not HTTP, no route); its address is 127.0.0.1:${info.port}`, [
      `give it one in the config for its scheme, e.g. url: 'postgres://127.0.0.1:\${port}/app'`,
    ]);
  }
  return { ...info, url: info.url };
}
