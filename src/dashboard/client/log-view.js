// The log panel: the last lines of one service, then its new lines as they arrive (server-sent events). The DOM
// holds at most MAX_LINES lines, and new lines are added once per frame, so a service printing 1,000 lines a
// second costs the page the same as one printing ten.
import { renderAnsi } from './ansi.js';

/** @typedef {{ service: string, time: string | null, text: string }} LogLine */

const MAX_LINES = 2000;

export class LogView {
  /** @param {{ section: HTMLElement, title: HTMLElement, lines: HTMLElement, status: HTMLElement, search: HTMLInputElement, follow: HTMLInputElement, close: HTMLElement }} parts */
  constructor(parts) {
    this.parts = parts;
    /** @type {EventSource | null} */
    this.source = null;
    /** @type {string | null} */
    this.key = null;
    /** @type {LogLine[]} */
    this.pending = [];
    this.scheduled = false;
    this.received = 0;
    parts.close.addEventListener('click', () => this.close());
    parts.search.addEventListener('input', () => this.applySearch());
  }

  /** @param {{ checkout: string, service: string }} service */
  open(service) {
    const key = `${service.checkout}/${service.service}`;
    if (this.key === key && this.source) return;
    this.close();
    this.key = key;
    this.received = 0;
    this.parts.section.hidden = false;
    this.parts.section.dataset.service = key;
    this.parts.title.textContent = `${service.service} · ${service.checkout}`;
    this.parts.lines.replaceChildren();
    this.parts.status.textContent = 'connecting…';
    const url = `/api/v1/services/${encodeURIComponent(service.checkout)}/${encodeURIComponent(service.service)}/logs?n=200&follow=1`;
    const source = new EventSource(url);
    this.source = source;
    let first = true;
    source.addEventListener('lines', (event) => {
      const lines = /** @type {LogLine[]} */ (JSON.parse(/** @type {MessageEvent} */ (event).data));
      // A reconnect (the proxy restarted) sends the tail again: start over rather than repeat it.
      if (first) {
        first = false;
        this.pending = [];
        this.received = 0;
        this.parts.lines.replaceChildren();
      }
      this.add(lines);
    });
    source.addEventListener('open', () => {
      first = true;
      this.parts.status.textContent = 'following';
    });
    source.addEventListener('error', () => {
      this.parts.status.textContent = 'reconnecting…';
    });
  }

  close() {
    this.source?.close();
    this.source = null;
    this.key = null;
    this.pending = [];
    this.parts.section.hidden = true;
  }

  /** @param {LogLine[]} lines */
  add(lines) {
    this.received += lines.length;
    this.pending.push(...lines);
    if (this.pending.length > MAX_LINES) this.pending.splice(0, this.pending.length - MAX_LINES);
    if (this.scheduled) return;
    this.scheduled = true;
    // requestAnimationFrame does not run in a hidden tab; the timer keeps the DOM bounded there too.
    const flush = () => {
      if (!this.scheduled) return;
      this.scheduled = false;
      this.flush();
    };
    requestAnimationFrame(flush);
    setTimeout(flush, 250);
  }

  flush() {
    const box = this.parts.lines;
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    const query = this.parts.search.value.toLowerCase();
    const fragment = document.createDocumentFragment();
    for (const line of this.pending) {
      const div = document.createElement('div');
      if (line.time) {
        const time = document.createElement('time');
        time.dateTime = line.time;
        time.textContent = `${new Date(line.time).toLocaleTimeString()} `;
        div.append(time);
      }
      div.append(renderAnsi(line.text));
      if (query && !line.text.toLowerCase().includes(query)) div.hidden = true;
      fragment.append(div);
    }
    this.pending = [];
    box.append(fragment);
    let excess = box.childElementCount - MAX_LINES;
    while (excess-- > 0) box.firstElementChild?.remove();
    this.parts.status.textContent = `following · ${this.received} lines received, last ${box.childElementCount} shown`;
    if (this.parts.follow.checked && atBottom) box.scrollTop = box.scrollHeight;
    else if (this.parts.follow.checked && box.childElementCount <= 200) box.scrollTop = box.scrollHeight;
  }

  applySearch() {
    const query = this.parts.search.value.toLowerCase();
    for (const div of /** @type {HTMLCollectionOf<HTMLElement>} */ (this.parts.lines.children)) {
      div.hidden = query !== '' && !(div.textContent ?? '').toLowerCase().includes(query);
    }
  }
}
