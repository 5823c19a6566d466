import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // DynamoDB Local and the CDK synth are slow to start on a loaded 2-core machine: a sandbox
    // started beside the fault matrix once took over 60 s.
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
