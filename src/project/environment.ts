import { envPrefix } from '../config/names.js';
import { certificateFiles } from '../tls/authority.js';
import { serviceSpec, servicePort, serviceUrl, type Project } from './open.js';

/** `${port}`, `${url}`, `${api.port}`, `${api.url}` inside a service's `env` values. */
export const ENV_REFERENCE = /\$\{([a-z0-9-]+\.)?(port|url)\}/g;

/**
 * For every service S of the project: `S_PORT`, `S_HOST`, `S_ADDR` (`127.0.0.1:<port>`, for server-to-server
 * calls that need no proxy and no name resolution), and `S_URL` when S has a URL (`proxy: false` ones only
 * with a `url` template).
 */
export function projectEnvironment(project: Project): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of project.config.order) {
    const prefix = envPrefix(name);
    const port = servicePort(project, name);
    env[`${prefix}_PORT`] = String(port);
    env[`${prefix}_HOST`] = '127.0.0.1';
    env[`${prefix}_ADDR`] = `127.0.0.1:${port}`;
    const url = serviceUrl(project, name);
    if (url !== undefined) env[`${prefix}_URL`] = url;
  }
  return env;
}

/**
 * Exactly what a service's process gets on top of the inherited environment, in SPEC order: the port
 * variables, HOST, the PORTBROKER_* set (and NODE_EXTRA_CA_CERTS with HTTPS on), every service's S_* variables,
 * then its own `env` with references resolved (the config refuses `${url}` of a service without one).
 */
export function serviceEnvironment(project: Project, name: string): Record<string, string> {
  const spec = serviceSpec(project, name);
  const port = String(servicePort(project, name));
  const url = serviceUrl(project, name);
  const env: Record<string, string> = { PORT: port };
  for (const extra of spec.portEnv) env[extra] = port;
  env.HOST = '127.0.0.1';
  env.PORTBROKER_PROJECT = project.checkout.project;
  env.PORTBROKER_SERVICE = name;
  if (url !== undefined) env.PORTBROKER_URL = url;
  // With HTTPS on, Node clients in the service trust the proxy's CA (its https:// URLs) without a system install.
  if (project.settings.https) env.NODE_EXTRA_CA_CERTS = certificateFiles(project.settings.home).authority;
  Object.assign(env, projectEnvironment(project));
  for (const [key, value] of Object.entries(spec.env)) {
    env[key] = value.replace(ENV_REFERENCE, (_match, service: string | undefined, what: 'port' | 'url') => {
      const target = service ? service.slice(0, -1) : name;
      return what === 'port' ? String(servicePort(project, target)) : (serviceUrl(project, target) ?? '');
    });
  }
  return env;
}
