import type http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type NextFunction, type Request, type Response } from 'express';
import { laterPartOfThisBuild } from '../platform/build-stamp.js';
import { pageHeaders } from '../platform/html.js';
import { ProcessUsageSampler } from '../platform/process-usage.js';
import { apiRouter, type ServiceActions } from './api.js';
import { dashboardHostsOnly, sameOriginMutations } from './guard.js';
import { dashboardPage } from './page.js';
import { ProxyHealth, type DashboardInfo } from './proxy-health.js';

export type { DashboardInfo } from './proxy-health.js';

export interface DashboardOptions {
  /** The state folder: registry and logs. */
  home: string;
  /** The proxy's own facts, read fresh on every request. */
  info: () => DashboardInfo;
  /** Calls into the registry's watcher, so state changes reach open pages at once. */
  onRegistryChange?: (listener: () => void) => () => void;
  /** Start, stop and restart; by default over the supervisor's control channel, as `portbroker restart` does. */
  actions?: ServiceActions;
}

/** How long a button waits for its service: a restart includes a shutdown grace and a readiness check. */
const ACTION_TIMEOUT_MS = 120_000;

function overControlChannel(home: string): ServiceActions {
  const serviceActions = laterPartOfThisBuild(() => import('../control/service-actions.js'));
  return async (action, { checkout, service }) => {
    const { actOn } = await serviceActions();
    return actOn(home, checkout, service, action, ACTION_TIMEOUT_MS);
  };
}

/** The browser code, next to this file (compiled from `src/dashboard/client` into `dist/dashboard/client`). */
const CLIENT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'client');

/**
 * `http://portbroker.localhost:<port>/` (and `localhost`, `127.0.0.1`, `[::1]`): the page, its script, and the
 * API under `/api/v1`. express serves these hosts only; proxied traffic never goes through it.
 */
export function createDashboard(options: DashboardOptions): http.RequestListener {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const health = new ProxyHealth(options.info);
  const sampler = new ProcessUsageSampler();

  app.use(dashboardHostsOnly);
  app.use(sameOriginMutations);
  app.use('/api/v1', apiRouter({ home: options.home, proxyPort: () => options.info().port, health, sampler, actions: options.actions ?? overControlChannel(options.home), onRegistryChange: options.onRegistryChange }));
  // Before /api/v1 there were these two; scripts may use them.
  app.get('/api/status', (_req, res) => void res.json(health.view()));
  app.get('/api/routes', (_req, res) => void res.json(health.view().routes));

  app.get('/', (_req, res) => {
    res.set(pageHeaders({ scripts: true }));
    res.type('html').send(dashboardPage(options.info().port));
  });
  app.use('/assets', express.static(CLIENT, { index: false, fallthrough: true, setHeaders: (res) => res.set(pageHeaders({ scripts: true })) }));

  app.use((_req: Request, res: Response) => {
    res.status(404).json({ status: 404, error: 'not-found', message: 'the dashboard serves /, /assets/ and /api/v1/' });
  });
  // express's own error page would show a stack trace.
  app.use((error: Error, _req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return void res.destroy();
    res.status(500).json({ status: 500, error: 'internal', message: `the dashboard failed: ${error.message}` });
  });
  return app as unknown as http.RequestListener;
}
