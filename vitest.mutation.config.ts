// The unit tests Stryker runs against each mutant (stryker.config.json): only the fast, in-process
// ones of the mutated modules, so a run takes minutes, not the e2e suite's quarter hour per mutant.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['source'] },
  test: {
    include: [
      'packages/qos/src/**/*.test.ts',
      'packages/core/src/proxy-protocol/**/*.test.ts',
      'packages/core/src/sni/**/*.test.ts',
      'packages/protocol/src/**/*.test.ts',
      'packages/config/src/**/*.test.ts',
      'apps/server/src/api/grant-routes.test.ts',
      'apps/server/src/quota-period.test.ts',
      'apps/server/src/replicas/replica-messages.test.ts',
    ],
  },
});
