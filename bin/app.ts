// The CDK app: `npx cdk synth` (no AWS credentials or Docker needed).

import { CatalogError } from '../lambdas/core/catalog';
import { buildApp } from '../lib/loopgate-app';
import { StageConfigError } from '../lib/stage-config';

try {
  buildApp();
} catch (error) {
  if (!(error instanceof CatalogError || error instanceof StageConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}
