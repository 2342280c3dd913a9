import { assertProxyAction, proxyForeground, proxyStart, proxyStatus, proxyStop, type ProxyOptions } from '../../commands/proxy.js';
import { formatAddress } from '../../platform/sockets.js';
import { out, printJson, printLine, stateColor, table } from '../output.js';
import { common, type CliOptions } from '../run.js';
import { checkoutName } from '../../config/names.js';

/** `proxy start|stop|status`; status exits 1 when no proxy runs. */
export default async function main([action]: unknown[], options: CliOptions) {
  const which = assertProxyAction(String(action));
  const opts: ProxyOptions = { ...common(options), https: options.https === true ? true : undefined, lan: options.lan === true };

  if (which === 'start' && options.foreground) {
    const state = await proxyForeground({
      ...opts,
      onListening: (s) => {
        if (options.json) printJson(s);
        else printLine(`proxy listening on ${addresses(s.addresses, s.port)} (pid ${s.pid}); dashboard ${out.cyan(`http://portbroker.localhost:${s.port}/`)}; Ctrl-C stops it`);
      },
    });
    if (!options.json) printLine(out.dim(`proxy on port ${state.port} stopped`));
    return;
  }

  if (which === 'start') {
    const result = await proxyStart(opts);
    if (options.json) return printJson(result);
    const verb = result.reused ? 'already running' : 'started';
    printLine(`proxy ${verb} on ${addresses(result.addresses, result.port)} (pid ${result.pid}); dashboard ${out.cyan(result.dashboard)}`);
    return;
  }

  if (which === 'stop') {
    const result = await proxyStop(opts);
    if (options.json) return printJson(result);
    printLine(result.stopped ? `stopped the proxy (pid ${result.pid})` : out.dim('no proxy was running'));
    return;
  }

  const status = await proxyStatus(opts);
  if (options.json) {
    printJson(status);
    return status.running ? 0 : 1;
  }
  if (!status.running) {
    printLine(`no proxy runs on port ${status.port}; start it with portbroker proxy start (portbroker up starts it too)`);
    return 1;
  }
  printLine(`proxy running on ${addresses(status.addresses, status.port)} (pid ${status.pid}, up ${formatUptime(status.uptimeSeconds ?? 0)}); dashboard ${out.cyan(status.dashboard)}`);
  if (status.connections) printLine(out.dim(`${status.connections.clients} client and ${status.connections.upstreams} service connections open`));
  if (status.routes.length === 0) {
    printLine(out.dim('no routes: nothing is registered yet'));
    return;
  }
  printLine();
  printLine(
    table(
      ['URL', 'PORT', 'STATE', 'PROJECT'],
      status.routes.map((r) => [
        out.cyan(r.url),
        String(r.port),
        r.kind === 'alias' ? out.dim('alias') : stateColor(r.state),
        r.project ? checkoutName(r.project, r.label ?? '') : '',
      ]),
    ),
  );
}

function addresses(list: string[], port: number): string {
  return list.map((a) => `${formatAddress(a)}:${port}`).join(' and ');
}

function formatUptime(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  return `${Math.round(seconds / 3600)} h`;
}
