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
  const header = [...(all ? ['PROJECT'] : []), 'SERVICE', 'PORT', 'URL', 'STATE', 'PID', 'UPTIME', 'RESTARTS', 'SUPERVISOR'];
  const dash = out.dim('-');
  printLine(
    table(
      header,
      rows.map((r) => [
        ...(all ? [r.kind === 'alias' ? out.dim('alias') : checkoutName(r.project, r.label)] : []),
        name(r),
        String(r.port),
        r.url === null ? out.dim('-') : out.cyan(r.url),
        stateColor(r.state),
        r.pid === null ? dash : String(r.pid),
        r.uptimeSeconds === null ? dash : duration(r.uptimeSeconds),
        r.kind === 'alias' ? dash : String(r.restarts),
        r.supervisor === null ? dash : String(r.supervisor),
      ]),
    ),
  );
}

/** `42s`, `5m 03s`, `2h 10m`, `3d 4h`. */
function duration(seconds: number): string {
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3_600);
  const m = Math.floor((seconds % 3_600) / 60);
  const s = seconds % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${String(m).padStart(2, '0')}m`;
  if (m > 0) return `${m}m ${String(s).padStart(2, '0')}s`;
  return `${s}s`;
}
