import { who } from '../../commands/who.js';
import { formatAddress } from '../../platform/sockets.js';
import { out, printJson, printLine } from '../output.js';
import { common, type CliOptions } from '../run.js';
import { checkoutName } from '../../config/names.js';

/** Exit 1 when nothing listens on the port. */
export default async function main([port]: unknown[], options: CliOptions) {
  const result = who(String(port), common(options));
  const status = result.listeners.length > 0 ? 0 : 1;
  if (options.json) {
    printJson(result);
    return status;
  }
  const r = result.reservation;
  const reservation =
    r?.kind === 'service'
      ? `reserved for ${r.service} of ${checkoutName(r.project!, r.label)} in ${r.root}`
      : r?.kind === 'alias'
        ? `alias ${r.host}`
        : r?.kind === 'proxy'
          ? "portbroker's proxy port"
          : 'not reserved by portbroker';
  if (result.listeners.length === 0) {
    printLine(`nothing listens on port ${result.port} (${reservation})`);
    return status;
  }
  for (const l of result.listeners) {
    printLine(`${out.bold(`${formatAddress(l.address)}:${l.port}`)}  ${l.pid ? `pid ${l.pid}` : 'pid unknown (another user?)'}  ${l.command ?? ''}`.trimEnd());
  }
  printLine(out.dim(reservation));
  return status;
}
