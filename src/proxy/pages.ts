import { checkoutName, urlFor } from '../config/names.js';
import type { Route, ServiceRoute } from './route-table.js';
import { escapeHtml, htmlDocument } from '../platform/html.js';
import { shellQuote } from '../platform/shell.js';

/**
 * Every answer the proxy writes itself (refusals, 404, 502, 508 …) is a Page: one status, a title, a one-line
 * message, and the same facts as JSON. HTML by default, JSON when the `Accept` header prefers it. Everything
 * that comes from a request or a service (names, paths, log lines, commands) is escaped.
 */
export interface Page {
  status: number;
  title: string;
  message: string;
  /** The facts of the page: its JSON body (to which `status` and `message` are added). */
  facts: Record<string, unknown>;
  /** Extra HTML sections, built only from escaped text. */
  sections: string[];
}

export function missingHostPage(): Page {
  return page(400, 'Missing Host header', 'the request has no Host header; open http://<service>.localhost:<port>/', { error: 'missing-host' });
}

export function duplicateHostPage(first: string): Page {
  return page(400, 'Bad request', 'the request has more than one Host header; send exactly one', { error: 'duplicate-host', host: first });
}

export function blockedHostPage(host: string, reason: string): Page {
  return page(403, 'Blocked request', reason, { error: 'blocked-host', host });
}

export function dashboardWebSocketPage(): Page {
  return page(404, 'Not found', 'the dashboard has no WebSocket endpoint', { error: 'not-found' });
}

/** An HTTP/2 request for the dashboard, which speaks HTTP/1.1 only: 421 sends the browser to a connection of its own. */
export function misdirectedPage(): Page {
  return page(421, 'Misdirected request', 'the dashboard speaks HTTP/1.1 only: open it on a connection of its own', { error: 'misdirected' });
}

export function unsupportedConnectPage(protocol: string): Page {
  return page(501, 'Not implemented', `CONNECT with :protocol "${protocol}" is not supported; only websocket is`, { error: 'unsupported-connect', protocol });
}

export function internalErrorPage(): Page {
  return page(500, 'Internal error', 'portbroker proxy: internal error (see proxy.log)', { error: 'internal' });
}

export function loopPage(host: string, hops: number): Page {
  return page(
    508,
    'Loop detected',
    `the request for ${host} came back through the proxy ${hops} times: a service is proxying to its own URL; point its proxy at the port of the service it means (portbroker port <service>)`,
    { error: 'loop', host, hops },
  );
}

export function notFoundPage(host: string, running: ServiceRoute[], aliases: Route[], port: number): Page {
  const links = [...running, ...aliases].map((r) => ({ name: describeRoute(r), url: `${urlFor(r.host, port)}/` }));
  return page(
    404,
    'No such service',
    running.length > 0
      ? `no service is called ${host}; the running ones are listed below`
      : `no service is called ${host}, and none is running; start one with portbroker up`,
    { error: 'unknown-host', host, services: links },
    [linkList(links.length > 0 ? 'Running services' : 'No service is running', links)],
  );
}

export function ambiguousPage(host: string, candidates: ServiceRoute[], port: number): Page {
  const links = candidates.map((r) => ({ name: `${describeRoute(r)} (${r.state})`, url: `${urlFor(r.host, port)}/` }));
  return page(
    300,
    'Which one?',
    `${host} is the name of several services; use the full name of the one you mean`,
    { error: 'ambiguous-host', host, candidates: links },
    [linkList('Services with this name', links)],
  );
}

export interface UnavailableFacts {
  /** Why: the state, a connection error, a timeout. */
  reason: string;
  logLines: string[];
  /** 502 (down) or 504 (did not become ready in time). */
  status?: 502 | 504;
}

export function unavailablePage(route: Route, facts: UnavailableFacts): Page {
  const status = facts.status ?? 502;
  if (route.kind === 'alias') {
    return page(
      status,
      'Service unavailable',
      `${route.host} is an alias of port ${route.port}, and ${facts.reason}; start what should listen there, or remove the alias: portbroker alias ${route.host} --remove`,
      { error: 'unavailable', host: route.host, kind: 'alias', port: route.port, reason: facts.reason },
    );
  }
  // Under a live supervisor (stopped on purpose, or given up on after crashes) that one starts it; else `up`.
  const start = `cd ${shellQuote(route.root)} && ${route.invokedAs} ${route.control ? 'start' : 'up'} ${route.service}`;
  return page(
    status,
    'Service unavailable',
    `${route.service} of ${checkoutName(route.project, route.label)} (port ${route.port}) is ${route.state}: ${facts.reason}`,
    {
      error: 'unavailable',
      host: route.host,
      project: route.project,
      label: route.label,
      service: route.service,
      port: route.port,
      state: route.state,
      reason: facts.reason,
      command: route.command ?? null,
      start,
      logLines: facts.logLines,
    },
    [
      definitionList([
        ['Service', route.service],
        ['Project', checkoutName(route.project, route.label)],
        ['Port', String(route.port)],
        ['State', route.state],
        ['Command', route.command ?? '(none recorded)'],
        ['Start it', start],
      ]),
      facts.logLines.length > 0
        ? `<h2>Last log lines</h2><pre>${escapeHtml(facts.logLines.join('\n'))}</pre>`
        : '<p class="dim">No log lines recorded.</p>',
    ],
  );
}

/**
 * A service's answer that an HTTP/2 client cannot be given as it is (`what`: the header or status HTTP/2 has no
 * room for, else Node's reason), though the same request over HTTP/1.1 gets it unchanged.
 */
export function uncarriedAnswerPage(route: Route, what: { status?: number | undefined; header?: string | undefined; message: string }): Page {
  const part = what.header !== undefined ? `the header "${what.header}"` : what.status !== undefined ? `status ${what.status}` : `a head HTTP/2 cannot carry (${what.message})`;
  const which = what.header !== undefined || what.status !== undefined ? `${part}, which HTTP/2 cannot carry` : part;
  return page(
    502,
    'Answer HTTP/2 cannot carry',
    `${describeRoute(route)} (port ${route.port}) answered with ${which}; the same request works over HTTP/1.1 (curl --http1.1), or change what the service sends`,
    { error: 'uncarried-answer', host: route.host, port: route.port, header: what.header ?? null, upstreamStatus: what.status ?? null },
  );
}

/** What a client gets: JSON when its `Accept` prefers JSON over HTML, HTML otherwise. */
export function renderPage(p: Page, accept: string | undefined): { contentType: string; body: string } {
  if (prefersJson(accept)) {
    return { contentType: 'application/json; charset=utf-8', body: `${JSON.stringify({ status: p.status, message: p.message, ...p.facts }, null, 2)}\n` };
  }
  const body = htmlDocument({
    title: `${p.title} · portbroker`,
    body: `<h1>${p.status} · ${escapeHtml(p.title)}</h1>\n<p>${escapeHtml(p.message)}</p>\n${p.sections.join('\n')}\n<p class="dim">portbroker proxy</p>`,
  });
  return { contentType: 'text/html; charset=utf-8', body };
}

function prefersJson(accept: string | undefined): boolean {
  if (!accept) return false;
  let html = 0;
  let json = 0;
  for (const part of accept.toLowerCase().split(',')) {
    const [type = '', ...params] = part.split(';').map((s) => s.trim());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam ? Number(qParam.slice(2)) || 0 : 1;
    if (type === 'application/json' || type.endsWith('+json')) json = Math.max(json, q);
    else if (type === 'text/html') html = Math.max(html, q);
  }
  return json > html;
}

function page(status: number, title: string, message: string, facts: Record<string, unknown>, sections: string[] = []): Page {
  return { status, title, message, facts, sections };
}

function linkList(heading: string, links: Array<{ name: string; url: string }>): string {
  const items = links.map((l) => `<li><a href="${escapeHtml(l.url)}">${escapeHtml(l.url)}</a> <span class="dim">${escapeHtml(l.name)}</span></li>`);
  return `<h2>${escapeHtml(heading)}</h2>${items.length > 0 ? `<ul>${items.join('')}</ul>` : ''}`;
}

function definitionList(rows: Array<[string, string]>): string {
  return `<dl>${rows.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd><code>${escapeHtml(v)}</code></dd>`).join('')}</dl>`;
}

function describeRoute(route: Route): string {
  return route.kind === 'alias' ? `alias of port ${route.port}` : `${route.service} of ${checkoutName(route.project, route.label)}`;
}
