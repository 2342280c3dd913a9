import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

// The slow reliability suite (kill rounds, fuzzing): `npm run test:reliability`. Not mergeConfig: it concatenates
// `include` and `exclude` with the base's, which would run the whole fast suite and exclude this one.
export default defineConfig({ ...base, test: { ...base.test, include: ['test/reliability/**/*.test.ts'], exclude: ['node_modules/**'] } });
