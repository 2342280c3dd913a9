import path from 'node:path';
import { init } from '../../commands/init.js';
import { invokedAs } from '../invocation.js';
import { out, printJson, printLine } from '../output.js';
import type { CliOptions } from '../run.js';

export default async function main(_args: unknown[], options: CliOptions) {
  const result = await init({ cwd: options.cwd });
  if (options.json) return printJson(result);
  const rel = path.relative(process.cwd(), result.file) || result.file;
  printLine(`wrote ${out.bold(rel)} with ${result.services.length} service${result.services.length === 1 ? '' : 's'}:`);
  for (const s of result.services) printLine(`  ${s.name.padEnd(16)} ${out.dim(`${s.cwd}: ${s.command}`)}${s.framework ? out.dim(` (${s.framework})`) : ''}`);
  for (const s of result.skipped) printLine(out.dim(`  skipped ${s.package} (${s.script}): ${s.reason}`));
  printLine(`next: ${out.cyan(`${invokedAs()} up`)}`);
}
