// The dashboard page: every service of every checkout, live from /api/v1/events (the browser reconnects by
// itself, so the page survives a proxy restart), a filter, start/stop/restart buttons, and a live log per service.
// Every name and line from a service is set as text, never as HTML.
import { bytes, cpu, duration, el } from './format.js';
import { LogView } from './log-view.js';

/** @typedef {{ checkout: string, project: string, label: string, service: string, port: number, url: string, state: string, pid: number | null, proxy: boolean, onDemand: boolean, uptimeSeconds: number | null, restarts: number | null, cpuPercent: number | null, memoryBytes: number | null, command: string | null }} Service */

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const body = /** @type {HTMLTableSectionElement} */ ($('services').querySelector('tbody'));
const filter = /** @type {HTMLInputElement} */ ($('filter'));
const projectSelect = /** @type {HTMLSelectElement} */ ($('project'));
const connection = $('connection');

const log = new LogView({
  section: $('log'),
  title: $('log-title'),
  lines: $('log-lines'),
  status: $('log-status'),
  search: /** @type {HTMLInputElement} */ ($('log-search')),
  follow: /** @type {HTMLInputElement} */ ($('log-follow')),
  close: $('log-close'),
});

/** @type {Service[]} */
let services = [];
/** Rows by `checkout/service`, reused across updates: hundreds of services cost one pass of text updates. */
/** @typedef {'service' | 'state' | 'port' | 'url' | 'pid' | 'uptime' | 'restarts' | 'cpu' | 'memory' | 'actions'} Cell */
/** @typedef {'start' | 'stop' | 'restart'} Action */
/** @type {Cell[]} */
const CELLS = ['service', 'state', 'port', 'url', 'pid', 'uptime', 'restarts', 'cpu', 'memory', 'actions'];
/** @type {Action[]} */
const ACTIONS = ['start', 'stop', 'restart'];
/** @type {Map<string, { row: HTMLTableRowElement, cells: Record<Cell, HTMLElement>, buttons: Record<Action, HTMLButtonElement> }>} */
const rows = new Map();
/** @type {Map<string, HTMLTableRowElement>} */
const groupRows = new Map();
/** The result of the last action per service, shown until the next. */
/** @type {Map<string, string>} */
const results = new Map();

const keyOf = (/** @type {Service} */ s) => `${s.checkout}/${s.service}`;

function render() {
  const text = filter.value.trim().toLowerCase();
  const project = projectSelect.value;
  const wanted = services.filter(
    (s) => (!project || s.checkout === project) && (!text || `${s.checkout} ${s.service} ${s.state} ${s.port} ${s.url}`.toLowerCase().includes(text)),
  );
  const seen = new Set();
  /** @type {HTMLTableRowElement[]} */
  const order = [];
  let group = '';
  for (const s of wanted) {
    if (s.checkout !== group) {
      group = s.checkout;
      order.push(groupRow(s));
    }
    const key = keyOf(s);
    seen.add(key);
    order.push(serviceRow(s, key));
  }
  for (const [key, entry] of rows) if (!seen.has(key)) (entry.row.remove(), rows.delete(key));
  // Re-append only when the order changed: moving nodes on every tick would reset hover and focus.
  const current = [...body.children];
  if (current.length !== order.length || order.some((row, i) => current[i] !== row)) body.replaceChildren(...order);
  $('empty').hidden = services.length > 0;
  updateProjects();
}

/** @param {Service} s */
function groupRow(s) {
  let row = groupRows.get(s.checkout);
  if (!row) {
    row = /** @type {HTMLTableRowElement} */ (el('tr', { class: 'group' }));
    const cell = el('th', { colspan: String(CELLS.length), scope: 'colgroup' }, s.project);
    if (s.label) cell.append(el('span', { class: 'dim' }, ` (${s.label})`));
    row.append(cell);
    groupRows.set(s.checkout, row);
  }
  return row;
}

/** @param {Service} s @param {string} key */
function serviceRow(s, key) {
  let entry = rows.get(key);
  if (!entry) {
    const row = /** @type {HTMLTableRowElement} */ (el('tr', { 'data-service': key }));
    const cells = /** @type {Record<Cell, HTMLElement>} */ (Object.fromEntries(CELLS.map((name) => [name, el('td', { class: name, 'data-label': name })])));
    row.append(...CELLS.map((name) => cells[name]));
    const open = /** @type {HTMLButtonElement} */ (el('button', { type: 'button', class: 'link', title: 'Show its log' }, s.service));
    open.addEventListener('click', () => log.open(s, { reveal: true }));
    cells.service.append(open);
    const buttons = /** @type {Record<Action, HTMLButtonElement>} */ (
      Object.fromEntries(ACTIONS.map((action) => [action, el('button', { type: 'button', 'data-action': action }, action)]))
    );
    for (const action of ACTIONS) {
      buttons[action].addEventListener('click', () => act(action, s));
      cells.actions.append(buttons[action]);
    }
    cells.actions.append(el('span', { class: 'result dim', 'aria-live': 'polite' }));
    entry = { row, cells, buttons };
    rows.set(key, entry);
  }
  const { cells, buttons } = entry;
  setText(cells.state, s.state);
  cells.state.className = `state ${s.state}`;
  setText(cells.port, String(s.port));
  // A proxy: false service has no URL unless its config gives one (url is null then).
  const url = s.url ?? '';
  if (cells.url.dataset.url !== url) {
    cells.url.dataset.url = url;
    cells.url.replaceChildren(s.proxy ? el('a', { href: url }, url) : el('span', { class: 'dim' }, url || '-'));
  }
  setText(cells.pid, s.pid === null ? '' : String(s.pid));
  setText(cells.uptime, duration(s.uptimeSeconds));
  setText(cells.restarts, s.restarts ? String(s.restarts) : '');
  setText(cells.cpu, cpu(s.cpuPercent));
  setText(cells.memory, bytes(s.memoryBytes));
  const live = s.state === 'running' || s.state === 'starting';
  buttons.start.disabled = live || !s.command;
  buttons.stop.disabled = !live;
  buttons.restart.disabled = !s.command;
  setText(/** @type {HTMLElement} */ (cells.actions.querySelector('.result')), results.get(key) ?? '');
  return entry.row;
}

/** @param {HTMLElement} node @param {string} text */
function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

function updateProjects() {
  const names = [...new Set(services.map((s) => s.checkout))];
  const have = [...projectSelect.options].slice(1).map((o) => o.value);
  if (names.join('\n') === have.join('\n')) return;
  const chosen = projectSelect.value;
  projectSelect.replaceChildren(el('option', { value: '' }, 'All projects'), ...names.map((n) => el('option', { value: n }, n)));
  projectSelect.value = names.includes(chosen) ? chosen : '';
}

/** @param {string} action @param {Service} s */
async function act(action, s) {
  const key = keyOf(s);
  results.set(key, `${action}…`);
  render();
  if (action !== 'stop') log.open(s); // the log follows along
  try {
    const response = await fetch(`/api/v1/services/${encodeURIComponent(s.checkout)}/${encodeURIComponent(s.service)}/${action}`, { method: 'POST' });
    const answer = await response.json();
    results.set(key, response.ok ? (answer.result?.message ?? `${action}: done`) : `${action} failed: ${answer.message}`);
  } catch (error) {
    results.set(key, `${action} failed: ${error}`);
  }
  render();
}

/** @param {{ pid: number, port: number, uptimeSeconds: number, connections: { clients: number }, requestsPerSecond: number | null, eventLoopDelayMs: { p99: number, max: number } | null, refused: Array<{ at: string, host: string, status: number, reason: string }> }} p */
function renderProxy(p) {
  const rate = p.requestsPerSecond === null ? '' : ` · ${p.requestsPerSecond} req/s`;
  const delay = p.eventLoopDelayMs === null ? '' : ` · event loop delay p99 ${p.eventLoopDelayMs.p99} ms`;
  setText($('proxy'), `proxy pid ${p.pid} on port ${p.port} · up ${duration(p.uptimeSeconds)} · ${p.connections.clients} open connections${rate}${delay}`);
  $('refused-section').hidden = p.refused.length === 0;
  $('refused').replaceChildren(...p.refused.slice(0, 10).map((r) => el('li', {}, `${new Date(r.at).toLocaleTimeString()} · ${r.status} · ${r.host}: ${r.reason}`)));
}

filter.addEventListener('input', render);
projectSelect.addEventListener('change', render);

/** @type {EventSource | null} */
let events = null;

function connect() {
  events = new EventSource('/api/v1/events');
  events.addEventListener('open', () => {
    connection.textContent = 'live';
    connection.className = 'badge live';
  });
  events.addEventListener('error', () => {
    connection.textContent = 'reconnecting…';
    connection.className = 'badge down';
  });
  // A live update paints the log's waiting lines along (see LogView.paintNow).
  events.addEventListener('services', (event) => {
    services = JSON.parse(/** @type {MessageEvent} */ (event).data);
    render();
    log.paintNow();
  });
  events.addEventListener('proxy', (event) => {
    renderProxy(JSON.parse(/** @type {MessageEvent} */ (event).data));
    log.paintNow();
  });
}
connect();

// A tab in the background costs the proxy nothing: the live view and the log stream close while it is hidden and
// open again (the whole state, the log's tail) when it is shown.
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'hidden') {
    events?.close();
    events = null;
    connection.textContent = 'paused';
    connection.className = 'badge';
    log.pause();
  } else if (!events) {
    connect();
    log.resume();
  }
});
