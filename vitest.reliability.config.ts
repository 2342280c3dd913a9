import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config';

// The slow reliability suite (kill rounds, fuzzing): `npm run test:reliability`.
export default mergeConfig(base, defineConfig({ test: { include: ['test/reliability/**/*.test.ts'], exclude: [] } }));
