import { env, formatEnv, type EnvFormat } from '../../commands/env.js';
import { UsageError } from '../../errors.js';
import { printJson, printLine } from '../output.js';
import { common, type CliOptions } from '../run.js';

const FORMATS = ['dotenv', 'shell', 'json'];

export default async function main([service]: unknown[], options: CliOptions) {
  const format = options.json ? 'json' : String(options.format ?? 'dotenv');
  if (!FORMATS.includes(format)) throw new UsageError(`--format: "${format}" is not one of ${FORMATS.join(', ')}`);
  const vars = await env(service === undefined ? undefined : String(service), common(options));
  if (format === 'json') printJson(vars);
  else printLine(formatEnv(vars, format as EnvFormat));
}
