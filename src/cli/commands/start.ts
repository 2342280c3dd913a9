import { start } from '../../commands/control.js';
import { printActions } from '../control-output.js';
import { common, type CliOptions } from '../run.js';

export default async function main([services]: unknown[], options: CliOptions) {
  return printActions(await start((services as string[] | undefined) ?? [], common(options)), options.json);
}
