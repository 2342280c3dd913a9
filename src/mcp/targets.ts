import { restart, start, stop } from '../commands/control.js';
import { ls } from '../commands/ls.js';
import type { ActionResult, ControlAction } from '../control/protocol.js';
import { actOn } from '../control/service-actions.js';
import { readRegistry } from '../ports/registry.js';
import { stripAnsi } from '../platform/ansi.js';
import { logLines } from '../runner/log-file.js';
import { machineSettings } from '../commands/machine-settings.js';
import { checkoutId, findService as findInRegistry } from '../dashboard/service-views.js';
import { lastLines } from '../runner/log-reader.js';
import { PortbrokerError } from '../errors.js';
import { serviceLogFile } from '../platform/paths.js';
import type { ServiceInfo } from '../ports/service-info.js';
import type { CommonOptions } from '../project/context.js';

/**
 * What the MCP tools act on: a service of the project the server was started in (its cwd), or of any project on
 * the machine when the agent names one (`acme`, or `fix-login.acme` for a worktree, as the dashboard's API does).
 */

export async function listServices(options: CommonOptions, all: boolean): Promise<ServiceInfo[]> {
  return ls({ ...options, all });
}

export async function findService(options: CommonOptions, service: string, project?: string): Promise<ServiceInfo> {
  if (project === undefined) {
    const rows = await ls(options);
    const found = rows.find((r) => r.service === service);
    if (!found) throw new PortbrokerError(`no service "${service}" in this project (it has ${rows.map((r) => r.service).join(', ') || 'none'}); call list_services`);
    return found;
  }
  const rows = (await ls({ ...options, all: true })).filter((r) => r.kind === 'service');
  const found = rows.find((r) => r.service === service && checkoutId(r.project, r.label) === project);
  if (!found) throw new PortbrokerError(`no service "${service}" in project "${project}"; call list_services with all: true`);
  return found;
}

export interface LogLines {
  project: string;
  label: string;
  service: string;
  /** As `logs --json` prints them. */
  lines: Array<{ service: string; time: string | null; text: string }>;
}

export async function readLogs(options: CommonOptions, service: string, project: string | undefined, count: number): Promise<LogLines> {
  const info = await findService(options, service, project);
  const { home } = await machineSettings(options);
  const { lines } = lastLines(serviceLogFile(home, info.project, info.label, info.service), count);
  // An agent reads text: the colour codes the dashboard renders would be noise to it.
  const plain = logLines(info.service, lines).map((line) => ({ ...line, text: stripAnsi(line.text) }));
  return { project: info.project, label: info.label, service: info.service, lines: plain };
}

/** Starts, stops or restarts a service through its supervisor; answers once done (a start: ready or failed). */
export async function actOnService(options: CommonOptions, action: ControlAction, service: string, project?: string): Promise<ActionResult> {
  if (project === undefined) {
    const [result] = await { start, stop, restart }[action]([service], options);
    return result!;
  }
  const { home } = await machineSettings(options);
  const found = findInRegistry(readRegistry(home), project, service);
  if (!found) throw new PortbrokerError(`no service "${service}" in project "${project}"; call list_services with all: true`);
  return actOn(home, found.checkout, found.name, action, ACTION_TIMEOUT_MS);
}

/** A restart waits for the service's shutdown and its readiness check. */
const ACTION_TIMEOUT_MS = 120_000;
