import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['source'] },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts', 'packages/*/lib/**/*.test.ts', 'apps/*/src/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/**/*.test.ts'],
          // End-to-end tests start real processes and move hundreds of MiB over loopback; one
          // file at a time keeps them from competing for the 2 cores.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 60_000,
          // expect.poll waits on a browser page or a server; its 1 s default is short on a busy
          // 2-core machine. It is a bound on waiting, never a speed asserted.
          expect: { poll: { timeout: 10_000 } },
        },
      },
    ],
  },
});
