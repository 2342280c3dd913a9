// The example web app: renders a page with what it fetched from the API through the injected API_URL.
import http from 'node:http';

const port = Number(process.env.PORT);
const apiUrl = process.env.API_URL;

const server = http.createServer(async (req, res) => {
  if (req.url === '/health') return void res.end('ok');
  let api;
  try {
    api = await (await fetch(`${apiUrl}/api/status`)).json();
  } catch (error) {
    api = { error: String(error?.cause?.code ?? error) };
  }
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end(`<!doctype html>
<title>portbroker example</title>
<h1>web on port ${port}</h1>
<p>Reached the API at <code>${apiUrl}</code>: <code id="api">${escape(JSON.stringify(api))}</code></p>
<p>Live events from the API: <code id="events">waiting…</code></p>
<script>
  new EventSource(${JSON.stringify(`${apiUrl}/api/events`)}).onmessage = (e) => (document.getElementById('events').textContent = e.data);
</script>`);
});

function escape(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

server.listen(port, process.env.HOST ?? '127.0.0.1', () => console.log(`web listening on ${process.env.PORTBROKER_URL}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
