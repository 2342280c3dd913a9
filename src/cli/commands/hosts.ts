import { assertHostsAction, hosts, type HostsStatus } from '../../commands/hosts.js';
import { out, printJson, printLine } from '../output.js';
import { common, type CliOptions } from '../run.js';

export default async function main([action]: unknown[], options: CliOptions) {
  const which = assertHostsAction(String(action));
  const result = await hosts(which, common(options));
  if (options.json) return printJson(result);
  if (which === 'status') {
    const s = result as HostsStatus;
    printLine(`${s.file}: ${s.hosts.length} name${s.hosts.length === 1 ? '' : 's'} in portbroker's block${s.missing.length ? `, ${s.missing.length} missing (${s.missing.slice(0, 5).join(', ')}${s.missing.length > 5 ? ', …' : ''}): portbroker hosts sync` : ''}`);
    printLine(out.dim(s.resolverHandlesLocalhost ? 'the system resolver resolves *.localhost itself: the block is not needed' : 'the system resolver does not resolve *.localhost: non-Node clients need the block'));
    printLine(out.dim(`up and run keep it in step: ${s.auto ? 'on' : 'off'}`));
    return s.missing.length > 0 && !s.resolverHandlesLocalhost ? 1 : 0;
  }
  const verb = which === 'sync' ? `${result.hosts.length} name${result.hosts.length === 1 ? '' : 's'} in` : 'removed portbroker\'s block from';
  printLine(result.changed ? `${verb} ${result.file}` : `${result.file} is already up to date`);
}
