// The log panel: the last lines of one service, then its new lines as they arrive (server-sent events).
//
// The page keeps the last MAX_LINES lines in memory, but puts in the DOM only what is useful: while it follows the
// end of the log, the last TAIL_LINES; once the reader scrolls up (or turns follow off), every kept line, so they
// can scroll back through them. New lines reach the DOM at most every FLUSH_MS. Creating and laying out lines was
// nearly all of the page's cost at 1,000 lines a second, so following a busy log costs about what a quiet one does.
import { renderAnsi } from './ansi.js';

/** @typedef {{ service: string, time: string | null, text: string, skipped?: boolean }} LogLine */

const MAX_LINES = 2000;
const TAIL_LINES = 60;
const FLUSH_MS = 250;
// One formatter for every line: toLocaleTimeString() builds a new one per call.
const TIME = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

export class LogView {
  /** @param {{ section: HTMLElement, title: HTMLElement, lines: HTMLElement, status: HTMLElement, search: HTMLInputElement, follow: HTMLInputElement, close: HTMLElement }} parts */
  constructor(parts) {
    this.parts = parts;
    /** @type {EventSource | null} */
    this.source = null;
    /** @type {string | null} */
    this.key = null;
    /** @type {{ checkout: string, service: string } | null} */
    this.service = null;
    /** The kept lines, oldest first. */
    /** @type {LogLine[]} */
    this.lines = [];
    /** New lines not yet in the DOM (the last of `lines`). */
    this.unrendered = 0;
    /** Following the end: the DOM holds only the tail. */
    this.tailing = true;
    this.scheduled = false;
    this.lastFlush = 0;
    this.received = 0;
    parts.close.addEventListener('click', () => this.close());
    parts.search.addEventListener('input', () => this.rebuild());
    parts.follow.addEventListener('change', () => this.onScroll());
    parts.lines.addEventListener('scroll', () => this.onScroll(), { passive: true });
  }

  /** @param {{ checkout: string, service: string }} service */
  open(service) {
    const key = `${service.checkout}/${service.service}`;
    if (this.key === key && this.source) return;
    this.close();
    this.key = key;
    this.service = service;
    this.parts.section.hidden = false;
    this.parts.section.dataset.service = key;
    this.parts.title.textContent = `${service.service} · ${service.checkout}`;
    this.reset();
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
        this.reset();
      }
      this.received += lines.length;
      this.add(lines);
    });
    // The server skipped lines while this page did not keep up (a busy tab): say so where they would be.
    source.addEventListener('skipped', (event) => {
      const { lines } = /** @type {{ lines: number }} */ (JSON.parse(/** @type {MessageEvent} */ (event).data));
      this.add([{ service: service.service, time: null, text: `… ${lines} lines skipped: this page fell behind (portbroker logs has them all)`, skipped: true }]);
    });
    source.addEventListener('open', () => {
      first = true;
      this.parts.status.textContent = 'following';
    });
    source.addEventListener('error', () => {
      this.parts.status.textContent = 'reconnecting…';
    });
  }

  /** The tab went to the background: stop streaming (the service stays chosen). */
  pause() {
    this.source?.close();
    this.source = null;
    if (this.service) this.parts.status.textContent = 'paused while the tab is hidden';
  }

  /** Back in view: the tail again, then live lines. */
  resume() {
    const service = this.service;
    if (service && !this.source) {
      this.key = null;
      this.open(service);
    }
  }

  close() {
    this.service = null;
    this.source?.close();
    this.source = null;
    this.key = null;
    this.reset();
    this.parts.section.hidden = true;
  }

  reset() {
    this.lines = [];
    this.unrendered = 0;
    this.received = 0;
    this.tailing = true;
    this.parts.lines.replaceChildren();
  }

  /** @param {LogLine[]} lines */
  add(lines) {
    for (const line of lines) this.lines.push(line);
    this.unrendered += lines.length;
    if (this.lines.length > MAX_LINES) this.lines.splice(0, this.lines.length - MAX_LINES);
    if (this.scheduled) return;
    this.scheduled = true;
    // A timer, not requestAnimationFrame: it also runs (throttled) in a hidden tab.
    setTimeout(() => {
      this.scheduled = false;
      this.lastFlush = performance.now();
      if (this.source) this.flush();
    }, Math.max(0, this.lastFlush + FLUSH_MS - performance.now()));
  }

  flush() {
    const box = this.parts.lines;
    const fresh = this.matching(this.lines.slice(-Math.min(this.unrendered, this.limit())));
    this.unrendered = 0;
    const fragment = document.createDocumentFragment();
    for (const line of fresh) fragment.append(lineElement(line));
    box.append(fragment);
    this.trim();
    this.parts.status.textContent = `following · ${this.received} lines received, last ${this.lines.length} kept`;
    if (this.tailing) box.scrollTop = box.scrollHeight;
  }

  /** The reader left the end (or came back to it): every kept line goes in, or (at the next flush) only the tail. */
  onScroll() {
    const box = this.parts.lines;
    const atEnd = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    const tailing = this.parts.follow.checked && atEnd;
    if (tailing === this.tailing) return;
    this.tailing = tailing;
    if (!tailing) this.expand();
  }

  /** Puts the kept lines older than the DOM's before them; the browser's scroll anchoring keeps the view still. */
  expand() {
    const box = this.parts.lines;
    const rendered = this.matching(this.lines.slice(0, this.lines.length - this.unrendered));
    const older = rendered.slice(0, Math.max(0, rendered.length - box.childElementCount)).slice(-(MAX_LINES - box.childElementCount));
    const fragment = document.createDocumentFragment();
    for (const line of older) fragment.append(lineElement(line));
    box.prepend(fragment);
  }

  /** Renders the kept lines again, for a new search. */
  rebuild() {
    const box = this.parts.lines;
    const fragment = document.createDocumentFragment();
    for (const line of this.matching(this.lines).slice(-this.limit())) fragment.append(lineElement(line));
    box.replaceChildren(fragment);
    this.unrendered = 0;
    if (this.tailing) box.scrollTop = box.scrollHeight;
  }

  limit() {
    return this.tailing ? TAIL_LINES : MAX_LINES;
  }

  /** Drops the DOM's oldest lines past the limit, in one removal. */
  trim() {
    const box = this.parts.lines;
    const excess = box.childElementCount - this.limit();
    if (excess <= 0) return;
    const range = document.createRange();
    range.setStartBefore(/** @type {Element} */ (box.firstElementChild));
    range.setEndBefore(/** @type {Element} */ (box.children[excess]));
    range.deleteContents();
  }

  /** @param {LogLine[]} lines */
  matching(lines) {
    const query = this.parts.search.value.toLowerCase();
    return query ? lines.filter((line) => line.skipped || line.text.toLowerCase().includes(query)) : lines;
  }
}

/** @param {LogLine} line */
function lineElement(line) {
  const div = document.createElement('div');
  if (line.skipped) div.className = 'skipped';
  if (line.time) {
    const time = document.createElement('time');
    time.dateTime = line.time;
    time.textContent = `${TIME.format(new Date(line.time))} `;
    div.append(time);
  }
  div.append(renderAnsi(line.text));
  return div;
}
