// The CDK app: `npx cdk synth` (no AWS credentials or Docker needed).

import { CatalogError } from '../lambdas/core/catalog';
import { buildApp } from '../lib/loopgate-app';

try {
  buildApp();
} catch (error) {
  if (!(error instanceof CatalogError)) throw error;
  console.error(error.message);
  process.exit(1);
}
