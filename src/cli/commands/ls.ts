import { assertLsFormat, ls } from '../../commands/ls.js';
import { markdownTable, out, printJson, printLine, stateColor, table } from '../output.js';
import { common, type CliOptions } from '../run.js';
import { checkoutName } from '../../config/names.js';

export default async function main(_args: unknown[], options: CliOptions) {
  const format = assertLsFormat(options.format as string | undefined);
  const rows = await ls({ ...common(options), all: options.all === true });
  if (options.json) return printJson(rows);
  const all = options.all === true;
  const name = (r: (typeof rows)[number]) => (r.kind === 'alias' ? `${r.service} (alias)` : r.kind === 'ad-hoc' ? `${r.service} (ad hoc)` : r.service);
  if (format === 'markdown') {
    printLine(markdownTable(['Service', 'Port', 'URL'], rows.map((r) => [name(r), String(r.port), r.url ?? ''])));
    return;
  }
  if (rows.length === 0) {
    printLine(out.dim(all ? 'no reservations on this machine' : 'no services'));
    return;
  }
  const header = [...(all ? ['PROJECT'] : []), 'SERVICE', 'PORT', 'URL', 'STATE', 'PID'];
  printLine(
    table(
      header,
      rows.map((r) => [
        ...(all ? [r.kind === 'alias' ? out.dim('alias') : checkoutName(r.project, r.label)] : []),
        name(r),
        String(r.port),
        r.url === null ? out.dim('-') : out.cyan(r.url),
        stateColor(r.state),
        r.pid === null ? out.dim('-') : String(r.pid),
      ]),
    ),
  );
}
