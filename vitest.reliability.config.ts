import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

// The slow reliability suite (kill rounds, fuzzing): `npm run test:reliability`.
// Spread, not mergeConfig: mergeConfig concatenates include/exclude, so the base's exclude of
// test/reliability/** would still apply and nothing would run.
export default defineConfig({ ...base, test: { ...base.test, include: ['test/reliability/**/*.test.ts'], exclude: ['node_modules/**'] } });
