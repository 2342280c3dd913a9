#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { PortbrokerError } from '../errors.js';
import { formatAddress } from '../platform/sockets.js';
import { serveProxy } from './serve.js';

/**
 * Entry of the detached proxy daemon that `ensureProxy` starts: `daemon-main.js --home <dir> --port <n> [--lan] [--https]`.
 * Its stdout and stderr are the state folder's proxy.log. PORTBROKER_PROXY_FAST_PATH=0 turns the fast path
 * off (benchmarks and tests of the general path); PORTBROKER_PROXY_HEAD_TIMEOUT_MS sets the request-head
 * deadline (60 s by default; tests shorten it).
 */
const log = (message: string) => process.stdout.write(`${new Date().toISOString()} ${message}\n`);

try {
  const { values } = parseArgs({ options: { home: { type: 'string' }, port: { type: 'string' }, lan: { type: 'boolean' }, https: { type: 'boolean' } } });
  const port = Number(values.port);
  if (!values.home || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new PortbrokerError('usage: daemon-main.js --home <state folder> --port <port> [--lan] [--https]', { exitCode: 2 });
  }
  const fastPath = process.env.PORTBROKER_PROXY_FAST_PATH !== '0';
  const headTimeout = Number(process.env.PORTBROKER_PROXY_HEAD_TIMEOUT_MS);
  const headTimeoutMs = Number.isInteger(headTimeout) && headTimeout > 0 ? headTimeout : undefined;
  const proxy = await serveProxy({ home: values.home, port, lan: values.lan === true, https: values.https === true, fastPath, headTimeoutMs, log });
  // A daemon serves every project on the machine: one bad connection must not take it down. Log and go on.
  process.on('uncaughtException', (error) => log(`uncaught: ${error.stack ?? error}`));
  process.on('SIGHUP', () => undefined);
  log(`listening on ${proxy.state.addresses.map(formatAddress).join(', ')} port ${port} (pid ${process.pid}, ${values.https ? 'HTTPS, ' : ''}fast path ${fastPath ? 'on' : 'off'})`);
  await proxy.stopped;
  log('stopped');
  process.exit(0);
} catch (error) {
  const message = error instanceof PortbrokerError ? [error.message, ...error.details].join('\n  ') : ((error as Error)?.stack ?? String(error));
  log(`portbroker: ${message}`);
  process.exit(error instanceof PortbrokerError ? error.exitCode : 1);
}
