import http from 'node:http';
import type http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import { pageHeaders } from '../platform/html.js';
import { renderPage, type Page } from './pages.js';

/** Pages carry only escaped text and inline styles: their policy makes sure nothing else ever runs. */
const PAGE_HEADERS = pageHeaders();

/** Answers a request with one of the proxy's own pages. */
export function sendPage(req: http.IncomingMessage, res: http.ServerResponse, page: Page): void {
  if (res.headersSent || res.destroyed) {
    res.destroy();
    return;
  }
  const { contentType, body } = renderPage(page, req.headers.accept);
  res.writeHead(page.status, { ...PAGE_HEADERS, 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * Writes a page straight to a socket and closes it: for upgrade requests (there is no response object) and for
 * a spliced connection whose service went away before answering.
 */
export function writePageToSocket(socket: Duplex, page: Page, accept: string | undefined, method = 'GET'): void {
  if (socket.destroyed || !socket.writable) {
    socket.destroy();
    return;
  }
  const { contentType, body } = renderPage(page, accept);
  const headers = { ...PAGE_HEADERS, 'content-type': contentType, 'content-length': Buffer.byteLength(body), connection: 'close' };
  const head = [`HTTP/1.1 ${page.status} ${http.STATUS_CODES[page.status] ?? ''}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  socket.end(`${head.join('\r\n')}\r\n\r\n${method === 'HEAD' ? '' : body}`);
}

/** Answers an HTTP/2 stream with a page (the HTTP/2 front has no response objects either). */
export function sendPageOnStream(stream: http2.ServerHttp2Stream, page: Page, accept: string | undefined, method = 'GET'): void {
  if (stream.headersSent || stream.destroyed) {
    stream.destroy();
    return;
  }
  const { contentType, body } = renderPage(page, accept);
  stream.respond({ ':status': page.status, ...PAGE_HEADERS, 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  stream.end(method === 'HEAD' ? undefined : body);
}
