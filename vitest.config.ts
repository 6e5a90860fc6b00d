import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Starts one Redis and one MongoDB-wire server for the whole run; tests isolate by unique names.
    globalSetup: ['test/setup/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    // Generous for hooks that start their own servers (a JVM for mongo-java-server).
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
    // A flaky test is a bug to fix, not to retry.
    retry: 0,
  },
});
