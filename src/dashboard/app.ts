import type http from 'node:http';
import express from 'express';
import { escapeHtml } from '../proxy/pages.js';
import type { Route } from '../proxy/route-table.js';
import { routeViews } from '../proxy/route-views.js';

/** What the proxy tells its dashboard, read fresh on every request. */
export interface DashboardInfo {
  pid: number;
  port: number;
  addresses: string[];
  startedAt: Date;
  routes: readonly Route[];
  stats: { clients: number; upstreams: number; spliced: number; handedOver: number };
}

/**
 * `http://portbroker.localhost:<port>/`: every route with its state, as a page and as JSON
 * (`/api/routes`, `/api/status`). express serves this host only; proxied traffic never goes through it.
 */
export function createDashboard(info: () => DashboardInfo): http.RequestListener {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.get('/api/routes', (_req, res) => {
    const now = info();
    res.json(routeViews(now.routes, now.port));
  });
  app.get('/api/status', (_req, res) => {
    const now = info();
    res.json({
      pid: now.pid,
      port: now.port,
      addresses: now.addresses,
      startedAt: now.startedAt.toISOString(),
      uptimeSeconds: Math.round((Date.now() - now.startedAt.getTime()) / 1000),
      connections: now.stats,
      routes: routeViews(now.routes, now.port),
    });
  });
  app.get('/', (_req, res) => {
    const now = info();
    res.set('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'");
    res.type('html').send(page(now));
  });
  app.use((_req, res) => {
    res.status(404).json({ error: 'not-found', message: 'the dashboard serves /, /api/routes and /api/status' });
  });
  return app as unknown as http.RequestListener;
}

function page(now: DashboardInfo): string {
  const rows = routeViews(now.routes, now.port)
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.project ?? '')}${r.label ? ` <span class="dim">(${escapeHtml(r.label)})</span>` : ''}</td>` +
        `<td>${escapeHtml(r.service ?? r.host)}</td><td><a href="${escapeHtml(r.url)}">${escapeHtml(r.url)}</a></td>` +
        `<td>${r.port}</td><td class="${escapeHtml(r.state)}">${escapeHtml(r.state)}</td></tr>`,
    )
    .join('\n');
  const uptime = Math.round((Date.now() - now.startedAt.getTime()) / 1000);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="color-scheme" content="light dark">
<title>portbroker</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #8884}
.dim{opacity:.6}.running{color:#1a7f37}.starting{color:#9a6700}.crashed{color:#cf222e}</style>
</head><body>
<h1>portbroker</h1>
<p class="dim">proxy pid ${now.pid} on port ${now.port} (${escapeHtml(now.addresses.join(', '))}), up ${uptime} s ·
${now.stats.clients} client and ${now.stats.upstreams} upstream connections open · <a href="/api/status">JSON</a></p>
<table><thead><tr><th>Project</th><th>Service</th><th>URL</th><th>Port</th><th>State</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="5" class="dim">No routes yet: run portbroker up in a project.</td></tr>'}
</tbody></table>
</body></html>
`;
}
