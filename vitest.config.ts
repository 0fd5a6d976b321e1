import { defineConfig } from 'vitest/config';

import { fileURLToPath } from 'node:url';

export default defineConfig({
  resolve: { alias: { '@switchboard/client': fileURLToPath(new URL('./packages/client/src/index.ts', import.meta.url)) } },
  test: {
    include: ['test/**/*.test.ts'],
    // After each test: the cleanups of test/support/cleanup.ts; after each file: the temp dirs of test/support/temp.ts.
    setupFiles: ['test/support/setup.ts'],
    // Once per run: the Client SDK's browser bundle the gateway serves, built when missing or stale.
    globalSetup: ['test/support/build-client.ts'],
    // Each file starts its own gateways on port 0; two workers suit the 2-core machines CI runs on.
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 20_000,
    hookTimeout: 20_000,
    reporters: ['default'],
  },
});
