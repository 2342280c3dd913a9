import { trust } from '../../commands/trust.js';
import { out, printJson, printLine } from '../output.js';
import { common, type CliOptions } from '../run.js';

/** Exit 1 when a store still needs a change only root can make (its commands are printed). */
export default async function main(_args: unknown[], options: CliOptions) {
  const result = await trust({ ...common(options), remove: options.remove === true });
  const status = result.stores.some((s) => s.outcome === 'pending') ? 1 : 0;
  if (options.json) {
    printJson(result);
    return status;
  }
  if (!result.fingerprint) {
    printLine(`no CA in ${result.ca}: nothing to remove`);
    return 0;
  }
  const said = { added: 'trusted by', removed: 'removed from', unchanged: options.remove ? 'not in' : 'already trusted by' };
  for (const store of result.stores) {
    if (store.outcome !== 'pending') printLine(`${out.green('ok')}  ${said[store.outcome]} ${store.label}`);
  }
  const pending = result.stores.filter((s) => s.outcome === 'pending');
  if (pending.length > 0) {
    process.stderr.write(`portbroker: changing ${pending.map((s) => s.label).join(' and ')} needs root; run:\n`);
    for (const line of pending.flatMap((s) => s.commands)) process.stderr.write(`  ${line}\n`);
  }
  printLine(out.dim(`CA: ${result.ca}`));
  return status;
}
