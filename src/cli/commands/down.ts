import { checkoutName } from '../../config/names.js';
import { down } from '../../commands/down.js';
import { out, printJson, printLine } from '../output.js';
import { common, type CliOptions } from '../run.js';

export default async function main(_args: unknown[], options: CliOptions) {
  const result = await down(common(options));
  if (options.json) return printJson(result);
  const name = checkoutName(result.project, result.label);
  if (result.supervisors.length === 0 && result.orphans.length === 0) return printLine(out.dim(`nothing runs for ${name}`));
  if (result.supervisors.length > 0) {
    const services = result.services.length > 0 ? `${result.services.join(', ')} and ` : '';
    printLine(`stopped ${services}portbroker pid ${result.supervisors.join(', ')} (${name}); reservations stay`);
  }
  if (result.orphans.length > 0) printLine(`ended ${result.orphans.length} process${result.orphans.length === 1 ? '' : 'es'} a killed portbroker had left running (pid ${result.orphans.join(', ')})`);
}
