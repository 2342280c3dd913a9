import { requestStart } from '../../control/client.js';
import { GENERAL_PATH, type Exchange, type ProxyContext, type Step } from '../exchange.js';
import { logTail } from '../log-tail.js';
import { unavailablePage, type Page } from '../pages.js';
import type { RouteSource } from '../route-source.js';
import { isForwardable, type ServiceRoute } from '../route-table.js';

/**
 * A request for a service that is starting waits until it runs (bounded); an on-demand service that is not
 * running is asked to start first. A service that is down, and will not come up by itself, gets the 502 page.
 */
export const waitUntilReady: Step = (exchange, context) => {
  const route = exchange.route;
  if (!route || route.kind === 'alias' || isForwardable(route)) return undefined;
  if (!exchange.mayWait) return GENERAL_PATH;
  const startable = route.onDemand && route.control !== undefined;
  if (route.state !== 'starting' && !startable) {
    return unavailablePage(route, { reason: 'it is not running; start it with the command below', logLines: logTail(route.logFile) });
  }
  return startThenWait(exchange, context, route, startable);
};

async function startThenWait(exchange: Exchange, context: ProxyContext, route: ServiceRoute, startable: boolean): Promise<Page | undefined> {
  if (route.state !== 'starting') {
    try {
      await requestStart(route.control!, route.service);
      // The supervisor records `starting` before it answers; read that now rather than judge by a table that
      // may still say `crashed` from the last run.
      context.routes.reload();
    } catch (error) {
      return unavailablePage(route, { reason: `its supervisor could not start it (${(error as Error).message})`, logLines: logTail(route.logFile) });
    }
  }
  return waitForRunning(exchange, context, route, startable);
}

async function waitForRunning(exchange: Exchange, context: ProxyContext, route: ServiceRoute, startRequested: boolean): Promise<Page | undefined> {
  const outcome = await untilSettled(context.routes, exchange.host!, context.startTimeoutMs, exchange.signal, startRequested);
  if (outcome.kind === 'running') {
    exchange.route = outcome.route;
    return undefined;
  }
  if (outcome.kind === 'aborted') return undefined; // nobody is listening for an answer any more
  const latest = outcome.route ?? route;
  const seconds = Math.round(context.startTimeoutMs / 1000);
  return unavailablePage(latest, {
    reason: outcome.kind === 'timeout' ? `it did not become ready within ${seconds} s` : `it stopped while starting (${latest.state})`,
    logLines: logTail(latest.logFile),
    status: outcome.kind === 'timeout' ? 504 : 502,
  });
}

type Outcome =
  | { kind: 'running'; route: ServiceRoute }
  | { kind: 'failed'; route?: ServiceRoute }
  | { kind: 'timeout'; route?: ServiceRoute }
  | { kind: 'aborted' };

/**
 * Follows the route through each new table until it runs, fails or time is up. Right after an on-demand start
 * request the registry may still say stopped for a moment: only `crashed` ends that wait early.
 */
function untilSettled(routes: RouteSource, host: string, timeoutMs: number, signal: AbortSignal, startRequested: boolean): Promise<Outcome> {
  return new Promise((resolve) => {
    let latest: ServiceRoute | undefined;
    let done = false;
    const check = () => {
      const found = routes.current.lookup(host);
      if (found.kind !== 'route' || found.route.kind !== 'service') return finish({ kind: 'failed', route: latest });
      latest = found.route;
      if (latest.state === 'running') return finish({ kind: 'running', route: latest });
      if (latest.state === 'crashed' || (!startRequested && latest.state !== 'starting')) finish({ kind: 'failed', route: latest });
    };
    const onAbort = () => finish({ kind: 'aborted' });
    const timer = setTimeout(() => finish({ kind: 'timeout', route: latest }), timeoutMs);
    const unsubscribe = routes.subscribe(check);
    signal.addEventListener('abort', onAbort, { once: true });
    function finish(outcome: Outcome) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      unsubscribe();
      signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    }
    check();
  });
}
