import { stop } from '../../commands/control.js';
import { printActions } from '../control-output.js';
import { common, type CliOptions } from '../run.js';

export default async function main([services]: unknown[], options: CliOptions) {
  return printActions(await stop((services as string[] | undefined) ?? [], common(options)), options.json);
}
