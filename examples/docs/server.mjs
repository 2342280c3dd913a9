// The example docs site: started on demand by the first request through the proxy, stopped when idle.
import http from 'node:http';

const port = Number(process.env.PORT);
const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end(`<!doctype html><title>docs</title><h1>docs</h1><p>Started on demand at ${new Date().toISOString()}; stops after two idle minutes.</p>`);
});
server.listen(port, process.env.HOST ?? '127.0.0.1', () => console.log(`docs listening on ${process.env.PORTBROKER_URL}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
