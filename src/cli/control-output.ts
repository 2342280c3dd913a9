import type { ActionResult } from '../commands/control.js';
import { err, out, printJson, printLine } from './output.js';

/**
 * What `restart`, `stop` and `start` print: one line per service saying what was done, or the JSON array.
 * Exit status 1 when a service that should now run does not.
 */
export function printActions(results: ActionResult[], json: boolean | undefined): number {
  const failed = results.filter((r) => r.action !== 'stop' && r.state !== 'running');
  if (json) printJson(results);
  else {
    for (const r of results) {
      if (failed.includes(r)) process.stderr.write(`${err.red('portbroker:')} ${r.message}\n`);
      else printLine(`${r.message}${r.state === 'running' ? out.dim(` · port ${r.port}`) : ''}`);
    }
  }
  return failed.length > 0 ? 1 : 0;
}
