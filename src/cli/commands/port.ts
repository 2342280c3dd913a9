import { port } from '../../commands/port.js';
import { printJson, printLine } from '../output.js';
import { common, type CliOptions } from '../run.js';

export default async function main([service]: unknown[], options: CliOptions) {
  const info = await port(String(service), common(options));
  if (options.json) printJson(info);
  else printLine(String(info.port));
}
