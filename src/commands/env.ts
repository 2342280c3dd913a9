import { openProject, serviceSpec, type CommonOptions } from '../project/open.js';
import { projectEnvironment, serviceEnvironment } from '../project/environment.js';
import { shellQuote } from '../platform/shell.js';

/** The variables a service would get (without a service: every service's S_PORT and S_URL). */
export async function env(service: string | undefined, options: CommonOptions = {}): Promise<Record<string, string>> {
  const project = await openProject(options);
  if (service === undefined) return projectEnvironment(project);
  serviceSpec(project, service);
  return serviceEnvironment(project, service);
}

export type EnvFormat = 'dotenv' | 'shell' | 'json';

export function formatEnv(vars: Record<string, string>, format: EnvFormat): string {
  const entries = Object.entries(vars);
  switch (format) {
    case 'json':
      return JSON.stringify(vars, null, 2);
    case 'shell':
      return entries.map(([k, v]) => `export ${k}=${shellQuote(v)}`).join('\n');
    case 'dotenv':
      return entries.map(([k, v]) => `${k}=${/^[\w@%+=:,./-]*$/.test(v) ? v : JSON.stringify(v)}`).join('\n');
  }
}
