import { defineConfig } from 'portbroker';

// The examples of this repository: `npx portbroker up`, then open http://web.examples.localhost:7355.
export default defineConfig({
  name: 'examples',
  services: {
    api: { command: 'node server.mjs', cwd: 'examples/api', ready: { http: '/health' } },
    web: {
      command: 'node server.mjs',
      cwd: 'examples/web',
      dependsOn: ['api'],
      // API_URL is injected for every service anyway; this shows a reference inside `env`.
      env: { EVENTS_URL: '${api.url}/api/events' },
    },
    docs: { command: 'node server.mjs', cwd: 'examples/docs', start: 'on-demand', idleStopMs: 120_000 },
    // A reserved port with nothing started: a debugger or a database you run yourself.
    debug: { proxy: false },
  },
});
