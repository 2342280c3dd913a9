import { url } from '../../commands/port.js';
import { printJson, printLine } from '../output.js';
import { common, type CliOptions } from '../run.js';

export default async function main([service]: unknown[], options: CliOptions) {
  const info = await url(String(service), common(options));
  if (options.json) printJson(info);
  else printLine(info.url);
}
