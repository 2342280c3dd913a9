import http from 'node:http';
import type net from 'node:net';
import { isServedHost, refusalReason } from '../proxy/guard.js';
import { parseHost } from '../proxy/host.js';
import { blockedHostPage, missingHostPage } from '../proxy/pages.js';
import { sendPage, writePageToSocket } from '../proxy/respond.js';

/**
 * Plain HTTP on the HTTPS port: every request is sent to the same URL over https:// (308 keeps the method and
 * body). Only names the proxy serves are redirected: a rebound evil.com gets the same 403 as anywhere else.
 */
export function createRedirectServer(lan: boolean): http.Server {
  const location = (req: http.IncomingMessage): string | { page: ReturnType<typeof missingHostPage> } => {
    const header = req.headers.host;
    if (!header) return { page: missingHostPage() };
    const host = parseHost(header);
    if (!host) return { page: { ...blockedHostPage(header, `the Host header "${header}" is not a host name`), status: 400 } };
    if (!isServedHost(host, { lan })) return { page: blockedHostPage(host, refusalReason(host)) };
    return `https://${header.trim()}${req.url?.startsWith('/') ? req.url : '/'}`;
  };
  const server = http.createServer({ keepAliveTimeout: 5_000 }, (req, res) => {
    const target = location(req);
    if (typeof target !== 'string') return sendPage(req, res, target.page);
    res.writeHead(308, { location: target, 'content-type': 'text/plain', 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : `this port serves HTTPS: ${target}\n`);
  });
  // A ws:// connection cannot follow a redirect; it is told where to go and closed.
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
    socket.on('error', () => socket.destroy());
    const target = location(req);
    if (typeof target !== 'string') return writePageToSocket(socket, target.page, req.headers.accept);
    socket.end(`HTTP/1.1 308 Permanent Redirect\r\nlocation: ${target.replace(/^https/, 'wss')}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`);
  });
  return server;
}
