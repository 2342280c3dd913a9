import { escapeHtml, htmlDocument } from '../platform/html.js';

/**
 * The dashboard's one page: a skeleton that `client/dashboard.js` fills from `/api/v1/events`. Nothing from a
 * service (a name, a log line) is ever in this HTML: the script adds it as text.
 */
export function dashboardPage(proxyPort: number): string {
  return htmlDocument({
    title: 'portbroker',
    icon: ICON,
    wide: true,
    scripts: ['/assets/dashboard.js'],
    css: CSS,
    body: `<header class="top"><h1>portbroker</h1>
<p id="proxy" class="dim" aria-live="polite">proxy on port ${escapeHtml(String(proxyPort))}</p>
<span id="connection" class="badge" title="live updates">connecting…</span></header>
<main>
<div class="filters"><input id="filter" type="search" placeholder="Filter services" title="Matches a project, service, state or port" aria-label="Filter services by project, service, state or port" autocomplete="off">
<select id="project" aria-label="Project"><option value="">All projects</option></select></div>
<table id="services"><thead><tr><th>Service</th><th>State</th><th>Port</th><th>URL</th><th class="num">PID</th><th class="num">Uptime</th>
<th class="num">Restarts</th><th class="num">CPU</th><th class="num">Memory</th><th>Actions</th></tr></thead><tbody></tbody></table>
<p id="empty" class="dim" hidden>No services yet: run <code>portbroker up</code> in a project.</p>
<section id="log" hidden><div class="log-head"><h2 id="log-title">Log</h2>
<input id="log-search" type="search" placeholder="Search the log" aria-label="Search the log" autocomplete="off">
<label><input id="log-follow" type="checkbox" checked> follow</label>
<button id="log-close" type="button">Close</button></div>
<p id="log-status" class="dim"></p><pre id="log-lines" tabindex="0"></pre></section>
<section id="refused-section" hidden><h2>Recently refused requests</h2><ul id="refused"></ul></section>
</main>
<noscript><p>The dashboard needs JavaScript; the same data is at <a href="/api/v1/services">/api/v1/services</a>.</p></noscript>`,
  });
}

/** The tab's icon, inline (the page's policy allows data: images): a browser asks for /favicon.ico otherwise, a 404. */
const ICON = `data:image/svg+xml,${encodeURIComponent("<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 16 16'><rect width='16' height='16' rx='4' fill='#0969da'/><circle cx='8' cy='8' r='3.5' fill='none' stroke='#fff' stroke-width='2'/></svg>")}`;

// An action's result (.result) is as wide as its cell's buttons make it (width 0, min-width 100%): it wraps there
// rather than widen the table past the window.
// The log's box is a layer of its own (will-change): its new lines, once a second, repaint it alone rather than the
// page with its table (measured: Chromium's CPU with a busy log followed, 2.2% of a core to 1.8%).
const CSS = `
.top{display:flex;flex-wrap:wrap;align-items:baseline;gap:.25rem 1rem}.top h1{margin:0}.top p{margin:0;flex:1}
.badge{font-size:12px;padding:.1rem .5rem;border-radius:1rem;border:1px solid var(--line)}.badge.live{color:var(--ok)}.badge.down{color:var(--bad)}
.filters{display:flex;gap:.5rem;margin:1rem 0}.filters input{flex:1}
input,select,button{font:inherit;color:inherit;background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:.25rem .5rem}
button{cursor:pointer;background:var(--panel)}button:disabled{opacity:.45;cursor:default}
button.link{border:0;background:none;padding:0;color:var(--accent);font-weight:600}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line);vertical-align:middle}
thead th{font-size:13px;color:var(--dim);font-weight:600}.num,td.pid,td.uptime,td.restarts,td.cpu,td.memory{text-align:right;font-variant-numeric:tabular-nums}td.state,td.uptime,td.memory{white-space:nowrap}
tr.group th{padding-top:1rem;font-size:14px;border-bottom:2px solid var(--line)}
td.actions{white-space:nowrap}td.actions button{font-size:13px;padding:.1rem .45rem;margin-right:.25rem}.result{display:block;font-size:12px;white-space:normal;width:0;min-width:100%}
.state{font-weight:600}.running{color:var(--ok)}.starting{color:var(--warn)}.crashed,.orphaned{color:var(--bad)}.stopped,.reserved,.on-demand{color:var(--dim)}
#log{margin-top:1.5rem;border:1px solid var(--line);border-radius:8px;padding:.75rem}
.log-head{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem}.log-head h2{margin:0;flex:1}
#log-lines{height:24rem;overflow:auto;margin:.5rem 0 0;white-space:pre-wrap;overflow-wrap:anywhere;contain:strict;will-change:transform}
#log-lines.history>div{content-visibility:auto;contain-intrinsic-size:auto 1.3em}#log-lines .skipped{color:var(--warn);font-style:italic}
#log-lines time{color:var(--dim)}.b{font-weight:700}.d{opacity:.7}.i{font-style:italic}.u{text-decoration:underline}
.f30,.f90{color:var(--dim)}.f31,.f91{color:var(--bad)}.f32,.f92{color:var(--ok)}.f33,.f93{color:var(--warn)}
.f34,.f94{color:var(--accent)}.f35,.f95{color:#a475f9}.f36,.f96{color:#1b9aaa}
@media (max-width:48rem){thead{display:none}table,tbody,tr,td,th{display:block}tr[data-service]{padding:.5rem 0;border-bottom:1px solid var(--line)}
td{border:0;padding:.1rem 0;text-align:left!important}td[data-label]:not(.service):not(.actions)::before{content:attr(data-label) ": ";color:var(--dim)}
td:empty{display:none}td.actions{white-space:normal}}`;
