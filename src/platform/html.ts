/**
 * The one HTML shell of everything portbroker serves itself: the proxy's pages (403, 404, 502 …) and the
 * dashboard. One stylesheet (light and dark), one escaping function, one Content-Security-Policy: whatever a
 * name, a path or a log line holds, it is text, and no script runs but the dashboard's own file.
 */

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export interface ShellOptions {
  /** Plain text; escaped here. */
  title: string;
  /** HTML built only from escaped text. */
  body: string;
  /** Same-origin module scripts (the dashboard's); a page without any may run none. */
  scripts?: string[];
  /** The tab's icon: a URL (escaped here). */
  icon?: string;
  /** A wider layout (the dashboard's tables). */
  wide?: boolean;
  /** More CSS after the shared sheet. */
  css?: string;
}

export function htmlDocument(options: ShellOptions): string {
  const scripts = (options.scripts ?? []).map((src) => `<script type="module" src="${escapeHtml(src)}"></script>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="color-scheme" content="light dark">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(options.title)}</title>${options.icon ? `<link rel="icon" href="${escapeHtml(options.icon)}">` : ''}
<style>${BASE_CSS}${options.css ?? ''}</style>${scripts}
</head><body${options.wide ? ' class="wide"' : ''}>
${options.body}
</body></html>
`;
}

/**
 * The headers of every page: no caching, no sniffing, and a policy under which injected markup can do nothing
 * (no inline script, no foreign fetch, no framing, no form posts). Only the dashboard loads a script, its own.
 */
export function pageHeaders(options: { scripts?: boolean } = {}): Record<string, string> {
  const policy = [
    "default-src 'none'",
    "style-src 'unsafe-inline'",
    ...(options.scripts ? ["script-src 'self'", "connect-src 'self'", "img-src 'self' data:"] : []),
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ];
  return {
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'content-security-policy': policy.join('; '),
  };
}

const BASE_CSS = `:root{--bg:#fff;--fg:#1f2328;--dim:#59636e;--line:#d1d9e0;--panel:#f6f8fa;--accent:#0969da;
--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--dim:#9198a1;--line:#3d444d;--panel:#151b23;
--accent:#4493f8;--ok:#3fb950;--warn:#d29922;--bad:#f85149}}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,sans-serif;background:var(--bg);color:var(--fg);max-width:52rem;margin:3rem auto;padding:0 1rem}
body.wide{max-width:90rem;margin:1.5rem auto}
h1{font-size:1.4rem}h2{font-size:1.1rem}a{color:var(--accent)}
pre,code{font-family:var(--mono);font-size:13px}pre{background:var(--panel);padding:.75rem;overflow:auto}
dt{font-weight:600}dd{margin:0 0 .5rem}.dim{color:var(--dim)}`;
