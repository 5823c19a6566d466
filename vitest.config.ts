// Quiets the AWS SDK's notice that releases after January 2027 need Node 22: the lock file pins versions that run on 20.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

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
