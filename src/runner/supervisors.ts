import { serviceLogFile } from '../platform/paths.js';
import { serviceSpec, servicePort } from '../project/open.js';
import { prepareCommand } from './command-line.js';
import { CrashPolicy, DEFAULT_CRASH_POLICY, type CrashPolicyOptions } from './crash-policy.js';
import type { RunnerEvent } from './events.js';
import { LogFile } from './log-file.js';
import { processEnvironment } from './process-env.js';
import type { SessionContext } from './session-context.js';
import type { SpawnBurst } from './spawn-burst.js';
import { ServiceSupervisor } from './supervisor.js';

export interface SupervisorInputs {
  forceColor?: boolean;
  env?: NodeJS.ProcessEnv;
  crashPolicy?: CrashPolicyOptions;
  exitWith?: string;
  burst: SpawnBurst;
  portCheckedFreeAt: number | undefined;
  onEvent: (event: RunnerEvent) => void;
}

/** The supervisor of one service of a session, with everything it needs given now: command, env, log file. */
export function createSupervisor(ctx: SessionContext, name: string, inputs: SupervisorInputs): ServiceSupervisor {
  const { project } = ctx;
  const spec = serviceSpec(project, name);
  const port = servicePort(project, name);
  return new ServiceSupervisor({
    name,
    spec,
    port,
    env: processEnvironment(project, name, { supervisorPid: process.pid, forceColor: inputs.forceColor, inherit: inputs.env }),
    command: prepareCommand(spec.command!, port, spec.cwd),
    logFile: new LogFile(serviceLogFile(ctx.home, project.checkout.project, project.checkout.label, name)),
    crashPolicy: new CrashPolicy(inputs.crashPolicy ?? DEFAULT_CRASH_POLICY),
    emit: inputs.onEvent,
    publish: (state, pid, run) => ctx.publisher.set(name, state, pid, run),
    gate: inputs.burst,
    portCheckedFreeAt: inputs.portCheckedFreeAt,
    keepUnready: inputs.exitWith === name,
    // Its project's other ports (a debugger port passed in) are not a wrong port for it.
    siblingPorts: new Set(Object.entries(project.checkout.services).filter(([other]) => other !== name).map(([, rec]) => rec.port)),
  });
}
