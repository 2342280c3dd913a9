// The log panel of one service, in one of two modes, as `less +F` has them:
// - following the end: the last lines, then the new ones as they arrive (server-sent events). The server sends at
//   most the newest TAIL_LINES, once a second (`latest`): a few more than the panel shows of a busy log's end (20
//   lines of 13px in its 24rem); a page that parsed and laid out 1,000 lines a second to show 20 of them cost
//   Chromium most of its CPU for nothing, and each line made and styled costs the page's flush (below) alike;
// - paused to read (the reader scrolled up, or turned follow off): the stream closes and the last HISTORY_LINES
//   lines are fetched whole, every one; scrolling back to the end (or ticking follow) follows again.
// A search is done by the server (`q`), over the stream and the history alike, so no matching line is left out.
// New lines reach the DOM at once after a quiet spell, then at most once a FLUSH_MS while they keep coming: each
// visual update costs the browser a frame (style, layout, paint, composite across its processes: ~9 ms of CPU in
// headless Chromium here, whether it changes one word or a panel of lines), and the end of a busy log moves too
// fast to read anyway. A live update of the table paints the log's waiting lines along (`paintNow`): one frame.
// The DOM holds only what the mode shows.
import { renderAnsi } from './ansi.js';

/** @typedef {{ service: string, time: string | null, text: string, skipped?: boolean }} LogLine */

const HISTORY_LINES = 2000;
const TAIL_LINES = 24;
const FLUSH_MS = 1000;
const SEARCH_DELAY_MS = 250;
// One formatter for every line: toLocaleTimeString() builds a new one per call.
const TIME = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

export class LogView {
  /** @param {{ section: HTMLElement, title: HTMLElement, lines: HTMLElement, status: HTMLElement, search: HTMLInputElement, follow: HTMLInputElement, close: HTMLElement }} parts */
  constructor(parts) {
    this.parts = parts;
    /** @type {EventSource | null} */
    this.source = null;
    /** @type {AbortController | null} */
    this.loading = null;
    /** @type {{ checkout: string, service: string } | null} */
    this.service = null;
    /** The lines of the mode, oldest first. */
    /** @type {LogLine[]} */
    this.lines = [];
    /** New lines not yet in the DOM (the last of `lines`). */
    this.unrendered = 0;
    /** Following the end (else paused to read). */
    this.following = true;
    /** Lines received since the panel began following (its first tail included), shown or left out. */
    this.total = 0;
    /** Whether the server left lines of a batch out (a busy log). */
    this.cut = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.flushTimer = undefined;
    this.lastFlush = 0;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.searchTimer = undefined;
    parts.close.addEventListener('click', () => this.close());
    parts.search.addEventListener('input', () => {
      clearTimeout(this.searchTimer);
      this.searchTimer = setTimeout(() => this.reload(), SEARCH_DELAY_MS);
    });
    parts.follow.addEventListener('change', () => this.onScroll());
    parts.lines.addEventListener('scroll', () => this.onScroll(), { passive: true });
  }

  /**
   * @param {{ checkout: string, service: string }} service
   * @param {{ reveal?: boolean }} [options] reveal: brought into view (a click on the name; an action's click keeps
   *   the page where its result shows)
   */
  open(service, { reveal = false } = {}) {
    const key = `${service.checkout}/${service.service}`;
    // Below a long table (or a phone's fold) the panel would open out of sight: brought into view, as little as needed.
    const show = () => reveal && this.parts.section.scrollIntoView({ block: 'nearest' });
    if (this.parts.section.dataset.service === key && this.service && (this.source || this.loading || !this.following)) {
      show();
      return;
    }
    this.close();
    this.service = service;
    this.parts.section.hidden = false;
    this.parts.section.dataset.service = key;
    this.parts.title.textContent = `${service.service} · ${service.checkout}`;
    show();
    this.reload();
  }

  /** The panel again in its mode: after a new search, or back from a hidden tab. */
  reload() {
    if (!this.service) return;
    if (this.following && this.parts.follow.checked) this.follow();
    else this.pauseToRead();
  }

  /** Streams the end of the log: its last lines, then the newest of the new ones, once a second. */
  follow() {
    const service = this.service;
    if (!service) return;
    this.stop();
    this.mode(true);
    this.reset();
    this.parts.status.textContent = 'connecting…';
    const source = new EventSource(this.url({ n: String(TAIL_LINES), follow: '1', latest: String(TAIL_LINES) }));
    this.source = source;
    let first = true;
    source.addEventListener('lines', (event) => {
      const lines = /** @type {LogLine[]} */ (JSON.parse(/** @type {MessageEvent} */ (event).data));
      // A reconnect (the proxy restarted) sends the tail again: start over rather than repeat it.
      if (first) {
        first = false;
        this.reset();
      }
      this.total += lines.length;
      this.add(lines);
    });
    source.addEventListener('skipped', (event) => {
      const { lines, reason } = /** @type {{ lines: number, reason?: string }} */ (JSON.parse(/** @type {MessageEvent} */ (event).data));
      this.total += lines;
      // Left out of a busy batch on purpose: the panel shows the newest; pausing shows them all.
      if (reason === 'latest') this.cut = true;
      // Skipped while this page did not keep up (a busy tab): say so where they would be.
      else this.add([{ service: service.service, time: null, text: `… ${lines} lines skipped: this page fell behind (portbroker logs has them all)`, skipped: true }]);
    });
    source.addEventListener('open', () => {
      first = true;
      this.parts.status.textContent = 'following';
    });
    source.addEventListener('error', () => {
      if (source.readyState !== EventSource.CLOSED) this.parts.status.textContent = 'reconnecting…';
      else void this.refused(source);
    });
  }

  /**
   * The stream was answered with an error (a service gone, a proxy that must be restarted), which EventSource does
   * not retry and does not show: the answer's message is fetched and shown instead.
   * @param {EventSource} source
   */
  async refused(source) {
    const request = new AbortController();
    try {
      const response = await fetch(source.url, { signal: request.signal });
      if (response.ok) return void (this.source === source && this.follow()); // streams again: follow anew
      const text = await response.text();
      let message = text.trim();
      try {
        message = JSON.parse(text).message ?? message;
      } catch {
        // not JSON: the text itself
      }
      if (this.source === source) this.parts.status.textContent = `stopped · ${message}`;
    } catch (error) {
      if (this.source === source) this.parts.status.textContent = `stopped · the log stream failed (${error})`;
    } finally {
      request.abort();
    }
  }

  /** Stops following and shows the last HISTORY_LINES lines, every one, where the reader is. */
  async pauseToRead() {
    if (!this.service) return;
    this.stop();
    this.mode(false);
    const loading = new AbortController();
    this.loading = loading;
    this.parts.status.textContent = 'paused · loading the last lines…';
    try {
      const response = await fetch(this.url({ n: String(HISTORY_LINES) }), { signal: loading.signal });
      const answer = await response.json();
      if (!response.ok) throw new Error(answer.message);
      const box = this.parts.lines;
      const fromEnd = box.scrollHeight - box.scrollTop;
      this.reset();
      this.lines = answer.lines;
      this.unrendered = this.lines.length;
      this.flush();
      // Where the reader was, counted from the end: the lines they were reading stay about in view.
      box.scrollTop = Math.max(0, box.scrollHeight - fromEnd);
      const at = TIME.format(new Date());
      this.parts.status.textContent = `paused at ${at} · the last ${this.lines.length} lines; scroll to the end or tick follow to go on`;
    } catch (error) {
      if (!loading.signal.aborted) this.parts.status.textContent = `paused · the log could not be loaded (${error})`;
    } finally {
      if (this.loading === loading) this.loading = null;
    }
  }

  /**
   * Following the end, or paused to read. Only the history's lines are laid out when scrolled to
   * (`content-visibility`, the box's `history` class): a line not yet laid out is counted 1.3em high, and the end of
   * a followed log, whose lines wrap on a narrow screen, would be pinned short of its last lines.
   * @param {boolean} following
   */
  mode(following) {
    this.following = following;
    this.parts.lines.classList.toggle('history', !following);
  }

  /** The tab went to the background: stop streaming (the service stays chosen). */
  pause() {
    if (!this.service || !this.following) return; // paused to read: what it shows stays
    this.stop();
    this.parts.status.textContent = 'paused while the tab is hidden';
  }

  /** Back in view: following again. */
  resume() {
    if (this.service && this.following && !this.source) this.follow();
  }

  close() {
    this.stop();
    this.service = null;
    delete this.parts.section.dataset.service;
    this.mode(true);
    this.reset();
    this.parts.section.hidden = true;
  }

  stop() {
    // A flush still due belongs to the stream that ends: a new one starts from its own tail.
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.source?.close();
    this.source = null;
    this.loading?.abort();
    this.loading = null;
  }

  reset() {
    this.lines = [];
    this.unrendered = 0;
    this.total = 0;
    this.cut = false;
    this.parts.lines.replaceChildren();
  }

  /** @param {Record<string, string>} params */
  url(params) {
    const service = /** @type {{ checkout: string, service: string }} */ (this.service);
    const query = this.parts.search.value.trim();
    const search = new URLSearchParams({ ...params, ...(query ? { q: query } : {}) });
    return `/api/v1/services/${encodeURIComponent(service.checkout)}/${encodeURIComponent(service.service)}/logs?${search}`;
  }

  /** @param {LogLine[]} lines */
  add(lines) {
    for (const line of lines) this.lines.push(line);
    this.unrendered += lines.length;
    if (this.lines.length > TAIL_LINES) this.lines.splice(0, this.lines.length - TAIL_LINES);
    if (this.flushTimer !== undefined) return;
    // A timer, not requestAnimationFrame: it also runs (throttled) in a hidden tab.
    this.flushTimer = setTimeout(() => this.paintNow(), Math.max(0, this.lastFlush + FLUSH_MS - performance.now()));
  }

  /**
   * Shows the lines that wait, now rather than at the next flush: the page calls it when it updates anyway, so
   * both changes share one frame (the next flush is FLUSH_MS after this one).
   */
  paintNow() {
    if (this.flushTimer === undefined) return;
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.lastFlush = performance.now();
    if (!this.source) return;
    this.flush();
    this.parts.status.textContent = `following · ${this.total} lines${this.cut ? ' · a busy log: the newest shown, scroll up to read every line' : ''}`;
    const box = this.parts.lines;
    box.scrollTop = box.scrollHeight;
  }

  flush() {
    const box = this.parts.lines;
    const limit = this.following ? TAIL_LINES : HISTORY_LINES;
    const fresh = this.lines.slice(-Math.min(this.unrendered, limit));
    this.unrendered = 0;
    const fragment = document.createDocumentFragment();
    for (const line of fresh) fragment.append(lineElement(line));
    box.append(fragment);
    // Drops the DOM's oldest lines past the limit, in one removal.
    const excess = box.childElementCount - limit;
    if (excess <= 0) return;
    const range = document.createRange();
    range.setStartBefore(/** @type {Element} */ (box.firstElementChild));
    range.setEndBefore(/** @type {Element} */ (box.children[excess]));
    range.deleteContents();
  }

  /** The reader left the end (or turned follow off): pause to read; back at the end with follow on: follow. */
  onScroll() {
    if (!this.service || this.loading) return;
    const box = this.parts.lines;
    const atEnd = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    const follow = this.parts.follow.checked && atEnd;
    if (follow === this.following) return;
    if (follow) this.follow();
    else void this.pauseToRead();
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
