import { expandUrlTemplate, qualifiedHost, urlFor } from '../config/names.js';
import type { ProjectConfig, ServiceSpec } from '../config/project-config.js';
import type { Settings } from '../config/settings.js';
import { UsageError } from '../errors.js';
import { readRegistry, type CheckoutRecord } from '../ports/registry.js';
import { reserveCheckout } from '../ports/reservations.js';
import { withAdHocServices } from './adhoc.js';
import { resolveContext, type CommonOptions } from './context.js';

export type { CommonOptions } from './context.js';

/** A loaded project with its reservations: what most commands work on. */
export interface Project {
  config: ProjectConfig;
  settings: Settings;
  checkout: CheckoutRecord;
}

/**
 * Loads the config (and the services `run` added beside it), resolves settings and makes sure every service holds
 * a port. `vet` may refuse the loaded config (by throwing) before anything is reserved: a live reload's check.
 */
export async function openProject(options: CommonOptions = {}, vet?: (loaded: Pick<Project, 'config' | 'settings'>) => void): Promise<Project> {
  const context = await resolveContext(options, 'required');
  const { settings } = context;
  const config = withAdHocServices(context.config, readRegistry(settings.home, options).checkouts[context.config.root]);
  vet?.({ config, settings });
  const checkout = await reserveCheckout(config, settings, options);
  return { config, settings, checkout };
}

export function serviceSpec(project: Project, name: string): ServiceSpec {
  const spec = project.config.services[name];
  if (!spec) {
    const known = Object.keys(project.config.services);
    throw new UsageError(`unknown service "${name}" in ${project.config.file ?? project.config.root}`, [`declared services: ${known.join(', ')}`]);
  }
  return spec;
}

export function servicePort(project: Project, name: string): number {
  serviceSpec(project, name);
  return project.checkout.services[name]!.port;
}

/** The canonical host of a service of this checkout: `web.acme.localhost`, `web.fix-login.acme.localhost`. */
export function serviceHost(project: Project, name: string): string {
  return qualifiedHost(name, project.checkout.project, project.checkout.label);
}

/**
 * A service's URL: through the proxy for HTTP services. A `proxy: false` one (a debugger, a database) has no
 * route and speaks no HTTP, so it has none, unless its `url` template gives one (`postgres://127.0.0.1:${port}/app`).
 */
export function serviceUrl(project: Project, name: string): string | undefined {
  const spec = serviceSpec(project, name);
  if (!spec.proxy) return spec.url ? expandUrlTemplate(spec.url, servicePort(project, name)) : undefined;
  return urlFor(serviceHost(project, name), project.settings.proxyPort, project.settings.https);
}
