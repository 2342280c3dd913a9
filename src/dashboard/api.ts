import express, { type Request, type Response } from 'express';
import { readRegistry, type CheckoutRecord } from '../ports/registry.js';
import type { ProcStat } from '../platform/proc.js';
import type { ProcessUsageSampler } from '../platform/process-usage.js';
import { LogHub } from './log-hub.js';
import { sendLogs } from './logs.js';
import type { ProxyHealth } from './proxy-health.js';
import { processTableInSlices } from '../platform/process-tree.js';
import { findService, logFileOf, serviceViews, type ServiceView } from './service-views.js';
import { openEventStream } from './sse.js';
import { StateFeed } from './state-feed.js';

/** What a button (or a POST) asks of a service; carried out over the supervisor's control channel. */
export type ServiceAction = 'start' | 'stop' | 'restart';

export interface ServiceTarget {
  checkout: CheckoutRecord;
  service: string;
}

/** The control plane's call (`actOn`, what `portbroker restart` uses); tests may pass their own. */
export type ServiceActions = (action: ServiceAction, target: ServiceTarget) => Promise<unknown>;

export interface ApiOptions {
  home: string;
  proxyPort: () => number;
  health: ProxyHealth;
  sampler: ProcessUsageSampler;
  actions: ServiceActions;
  onRegistryChange?: (listener: () => void) => () => void;
}

/**
 * `/api/v1`: JSON, the same objects as `ls --all --json` (with live figures added).
 *
 *   GET  /services                              every service of every checkout
 *   GET  /services/:project/:service            one (`:project` is `acme`, or `fix-login.acme` for a worktree)
 *   GET  /services/:project/:service/logs       ?n=200, &follow=1 for server-sent events
 *   POST /services/:project/:service/start|stop|restart   through the service's supervisor, answered once done
 *   GET  /proxy                                 the proxy's health
 *   GET  /events                                server-sent events: `services` and `proxy` as they change
 */
export function apiRouter(options: ApiOptions): express.Router {
  const router = express.Router();
  const views = (table?: Map<number, ProcStat>): ServiceView[] =>
    serviceViews(readRegistry(options.home, { onWarning: () => undefined }), { home: options.home, proxyPort: options.proxyPort(), sampler: options.sampler }, table);
  const logs = new LogHub();
  const feed = new StateFeed(async () => ({ services: views(await processTableInSlices()), proxy: options.health.view() }), options.onRegistryChange);

  router.get('/services', (_req, res) => void res.json(views()));

  router.get('/services/:project/:service', (req, res) => {
    const view = views().find((v) => v.checkout === req.params.project && v.service === req.params.service);
    if (!view) return unknown(req, res);
    res.json(view);
  });

  router.get('/services/:project/:service/logs', (req, res) => {
    const found = findService(readRegistry(options.home, { onWarning: () => undefined }), req.params.project, req.params.service);
    if (!found) return unknown(req, res);
    const file = logFileOf(options.home, found.checkout, found.name);
    sendLogs(req, res, logs, file, { project: found.checkout.project, label: found.checkout.label, service: found.name, file });
  });

  router.post('/services/:project/:service/:action', async (req, res) => {
    const action = req.params.action;
    if (action !== 'start' && action !== 'stop' && action !== 'restart') {
      res.status(404).json({ status: 404, error: 'unknown-action', message: `"${action}" is not an action; use start, stop or restart` });
      return;
    }
    const found = findService(readRegistry(options.home, { onWarning: () => undefined }), req.params.project, req.params.service);
    if (!found) return unknown(req, res);
    let result: unknown;
    try {
      result = await options.actions(action, { checkout: found.checkout, service: found.name });
    } catch (error) {
      res.status(409).json({ status: 409, error: 'action-failed', message: (error as Error).message });
      return;
    }
    const view = views().find((v) => v.checkout === req.params.project && v.service === found.name);
    res.json({ action, result, service: view });
  });

  router.get('/proxy', (_req, res) => void res.json(options.health.view()));

  router.get('/events', (req, res) => feed.add(openEventStream(req, res)));

  router.use((req, res) => {
    res.status(404).json({ status: 404, error: 'not-found', message: `no API endpoint ${req.method} /api/v1${req.path}; see GET /api/v1/services, /api/v1/proxy, /api/v1/events` });
  });
  return router;
}

function unknown(req: Request, res: Response): void {
  res.status(404).json({
    status: 404,
    error: 'unknown-service',
    message: `no service ${req.params.service} in ${req.params.project}; GET /api/v1/services lists them`,
  });
}
