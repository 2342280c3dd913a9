/** DNS naming rules shared by the config, the allocator and the proxy. */

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function isDnsLabel(name: string): boolean {
  return LABEL.test(name);
}

/** Turns any text (a package name, a folder, a branch) into a DNS label: `@acme/Web_App` → `web-app`. */
export function toDnsLabel(text: string): string {
  const unscoped = text.replace(/^@[^/]+\//, '');
  const label = unscoped
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return label || 'app';
}

/** The host a checkout's service is reached at: `web.acme.localhost`, `web.fix-login.acme.localhost`. */
export function qualifiedHost(service: string, project: string, label = ''): string {
  return [service, label, project, 'localhost'].filter(Boolean).join('.');
}

/** A checkout as messages name it: `acme`, or `acme (fix-login)` for a labelled one. */
export function checkoutName(project: string, label = ''): string {
  return label ? `${project} (${label})` : project;
}

/** Extra `hostnames` may be a bare label (`app` → `app.localhost`) or a full `*.localhost` name. */
export function expandHostname(name: string): string {
  const lower = name.toLowerCase().replace(/\.$/, '');
  return lower.endsWith('.localhost') || lower === 'localhost' ? lower : `${lower}.localhost`;
}

export function urlFor(host: string, proxyPort: number, https = false): string {
  const scheme = https ? 'https' : 'http';
  const defaultPort = https ? 443 : 80;
  return `${scheme}://${host}${proxyPort === defaultPort ? '' : `:${proxyPort}`}`;
}

/** A `proxy: false` service's `url`: `postgres://127.0.0.1:${port}/app` with its port. */
export function expandUrlTemplate(template: string, port: number): string {
  return template.replaceAll('${port}', String(port));
}

/** portbroker's own name on the proxy: the dashboard. */
export const DASHBOARD_HOST = 'portbroker.localhost';

/** Where the dashboard is: `http://portbroker.localhost:7355/`. */
export function dashboardUrl(proxyPort: number, https = false): string {
  return `${urlFor(DASHBOARD_HOST, proxyPort, https)}/`;
}

/** `my-api` → `MY_API`, the prefix of the `S_PORT` / `S_URL` variables. */
export function envPrefix(service: string): string {
  return service.toUpperCase().replace(/-/g, '_');
}

/** Names that would collide with portbroker's own hosts. */
export const RESERVED_SERVICE_NAMES = new Set(['portbroker']);
