import { doctor } from '../../commands/doctor.js';
import { out, printJson, printLine } from '../output.js';
import { common, type CliOptions } from '../run.js';

/** Exit 1 when a check fails; warnings alone keep 0. */
export default async function main(_args: unknown[], options: CliOptions) {
  const checks = await doctor(common(options));
  const status = checks.some((c) => c.status === 'fail') ? 1 : 0;
  if (options.json) {
    printJson(checks);
    return status;
  }
  const mark = { ok: out.green('ok  '), warn: out.yellow('warn'), fail: out.red('fail') };
  for (const check of checks) {
    printLine(`${mark[check.status]}  ${check.message}`);
    if (check.fix && check.status !== 'ok') printLine(`      ${out.dim('fix:')} ${check.fix}`);
  }
  return status;
}
