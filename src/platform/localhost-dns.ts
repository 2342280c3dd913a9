/**
 * The `*.localhost` preload for `--import` (NODE_OPTIONS=--import …). The code lives in the CommonJS twin,
 * `localhost-dns.cts`, which the runner preloads with the cheaper `--require`; see there.
 */
import './localhost-dns.cjs';
