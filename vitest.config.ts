import { defineConfig } from 'vitest/config';

// Integration tests spawn real processes and bind real sockets: separate processes, generous timeouts.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/reliability/**', 'node_modules/**'],
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
    // Never the machine's hosts file: `up` keeps a block there where *.localhost does not resolve. The hosts
    // tests turn it on with a file of their own (PORTBROKER_HOSTS_FILE).
    // npm_command: `npx vitest` / `npm test` set it to exec / run-script, and the CLI would then write its hints as
    // `npx portbroker …`; the tests run it as if typed in a shell (the packaging test runs it through npx itself).
    env: { PORTBROKER_HOSTS: '0', npm_command: '' },
  },
});
