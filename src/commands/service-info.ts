import { serviceInfo, type ServiceInfo } from '../ports/service-info.js';
import { serviceUrl, type Project } from '../project/open.js';

export type { ServiceInfo } from '../ports/service-info.js';

/** A service of a loaded project, its URL from the config (scheme, port, template). */
export function infoFromProject(project: Project, name: string): ServiceInfo {
  const rec = project.checkout.services[name]!;
  return serviceInfo(project.checkout, name, rec, serviceUrl(project, name) ?? null);
}
