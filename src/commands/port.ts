import { infoFromProject, type ServiceInfo } from './service-info.js';
import { openProject, serviceSpec, type CommonOptions } from '../project/open.js';

/** A service's port, reserving it (and the rest of the project's) when new. The same number every time. */
export async function port(service: string, options: CommonOptions = {}): Promise<ServiceInfo> {
  const project = await openProject(options);
  serviceSpec(project, service);
  return infoFromProject(project, service);
}

/** A service's URL: `http://web.acme.localhost:7355`. Same object as `port`; the CLI prints `.url`. */
export const url = port;
