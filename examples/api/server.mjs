// The example API: JSON, a health check for `ready: { http: '/health' }`, and a server-sent event stream.
import http from 'node:http';

const port = Number(process.env.PORT);
const started = new Date();

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  res.setHeader('access-control-allow-origin', '*');
  if (url.pathname === '/health') return void res.end('ok');
  if (url.pathname === '/api/status') {
    res.setHeader('content-type', 'application/json');
    return void res.end(JSON.stringify({ service: process.env.PORTBROKER_SERVICE, port, started, host: req.headers.host }));
  }
  if (url.pathname === '/api/events') {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let n = 0;
    const timer = setInterval(() => res.write(`data: tick ${++n} at ${new Date().toISOString()}\n\n`), 1000);
    req.on('close', () => clearInterval(timer));
    return;
  }
  res.statusCode = 404;
  res.end('not found');
});

server.listen(port, process.env.HOST ?? '127.0.0.1', () => console.log(`api listening on ${process.env.PORTBROKER_URL}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
