// Runs this package's tests on their own: `vitest run -c packages/splice/vitest.config.ts`.
// (The root config's `unit` project globs packages/*/src only.)
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: import.meta.dirname,
  resolve: { conditions: ['source'] },
  test: {
    include: ['lib/**/*.test.ts'],
    // Several files move hundreds of MiB over loopback; on 2 cores they run one at a time.
    fileParallelism: false,
    testTimeout: 60_000,
  },
});
