import { release } from '../../commands/release.js';
import { out, printJson, printLine } from '../output.js';
import { common, type CliOptions } from '../run.js';
import { checkoutName } from '../../config/names.js';

export default async function main([services]: unknown[], options: CliOptions) {
  const result = await release((services as string[] | undefined) ?? [], {
    ...common(options),
    stale: options.stale === true,
    all: options.all === true,
  });
  if (options.json) return printJson(result);
  const who = (r: { project: string; label: string; service: string }) => `${checkoutName(r.project, r.label)}/${r.service}`;
  for (const r of result.released) printLine(`released ${who(r)} (port ${r.port})`);
  for (const k of result.kept) printLine(out.yellow(`kept ${who(k)} (port ${k.port}): it is running as pid ${k.pid}; stop it first`));
  if (result.released.length === 0 && result.kept.length === 0) printLine(out.dim('nothing to release'));
}
