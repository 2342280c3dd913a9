import type { NextFunction, Request, Response } from 'express';
import { parseHost } from '../proxy/host.js';
import { DASHBOARD_HOSTS } from '../proxy/route-table.js';

/**
 * Who may use the dashboard. Pages, the API and its event streams answer only requests addressed to a
 * dashboard name (`portbroker.localhost`, `localhost`, `127.0.0.1`, `[::1]`), so a page on another origin cannot
 * read them through DNS rebinding. A request that changes something (start, stop, restart) must also come from
 * the dashboard's own origin: a same-origin `Origin`, or `Sec-Fetch-Site: same-origin`. A form or a fetch on any
 * other site (even another `*.localhost` service) is refused with 403 and the reason. No CORS header is ever sent.
 */

export function dashboardHostsOnly(req: Request, res: Response, next: NextFunction): void {
  const host = parseHost(req.headers.host);
  if (host && DASHBOARD_HOSTS.includes(host)) return next();
  refuse(res, 'not-dashboard-host', `the dashboard answers only on ${DASHBOARD_HOSTS.map((h) => (h.includes(':') ? `[${h}]` : h)).join(', ')}; open http://portbroker.localhost:<proxy port>/`);
}

const SAFE_METHODS = new Set(['GET', 'HEAD']);

export function sameOriginMutations(req: Request, res: Response, next: NextFunction): void {
  if (SAFE_METHODS.has(req.method)) return next();
  const reason = crossOriginReason(req);
  if (!reason) return next();
  refuse(res, 'cross-origin', reason);
}

/** Why a mutating request is not from the dashboard's own origin, or undefined when it is. */
export function crossOriginReason(req: Pick<Request, 'headers'>): string | undefined {
  const fetchSite = header(req, 'sec-fetch-site');
  if (fetchSite === 'same-origin') return undefined;
  if (fetchSite !== undefined && fetchSite !== 'none') {
    return `a ${fetchSite} request may not change services (Sec-Fetch-Site: ${fetchSite}); use the dashboard's own page`;
  }
  const origin = header(req, 'origin');
  if (origin === undefined) {
    return `a request that changes services needs an Origin header naming the dashboard (Origin: http://${req.headers.host ?? 'portbroker.localhost:<port>'})`;
  }
  if (!sameOrigin(origin, req.headers.host)) {
    return `the Origin ${origin} is not the dashboard's (http://${req.headers.host ?? ''}); requests from other sites may not change services`;
  }
  return undefined;
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  if (!host) return false;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // `null` (a sandboxed frame, a file: page) included
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === host.toLowerCase();
}

function header(req: Pick<Request, 'headers'>, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function refuse(res: Response, error: string, message: string): void {
  res.status(403).json({ status: 403, error, message });
}
