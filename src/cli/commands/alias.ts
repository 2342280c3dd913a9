import { alias } from '../../commands/alias.js';
import { out, printJson, printLine, warn } from '../output.js';
import { common, type CliOptions } from '../run.js';

export default async function main([name, port]: unknown[], options: CliOptions) {
  const result = await alias(String(name), port as string | undefined, { ...common(options), remove: options.remove === true });
  if (options.json) return printJson(result);
  if (result.removed) {
    printLine(`removed the alias ${result.host} (port ${result.port})`);
    return;
  }
  printLine(`${out.cyan(result.url)} → port ${result.port}`);
  if (!result.listening) warn(`nothing listens on port ${result.port} yet; the alias answers 502 until something does`);
}
