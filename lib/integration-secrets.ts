// The secrets loopgate's functions read, one per integration, as the CDK app
// creates them. Which secrets exist and the keys each may hold are defined once,
// in lambdas/platform/integration-secrets.ts, which the cold-start loader
// (lambdas/platform/secrets.ts) checks every secret against: a function gets
// LOOPGATE_SECRET_ARNS as <secret id>=<ARN> pairs and sets only each secret's
// own keys. The operator fills each secret after the first deploy
// (docs/setup.md); CloudFormation never sees a value.

import { INTEGRATION_SECRETS, type SecretId } from '../lambdas/platform/integration-secrets';

export {
  INTEGRATION_SECRETS,
  type IntegrationSecret,
  SECRET_IDS,
  type SecretId,
  secretKeys,
} from '../lambdas/platform/integration-secrets';

/**
 * What a secret holds when CloudFormation creates it. It never changes: CloudFormation writes the
 * secret's value again whenever this text changes, which would wipe what the operator stored.
 */
export const SECRET_PLACEHOLDER = '{}';

export const secretName = (stage: string, secret: SecretId) =>
  `loopgate/${stage}/${INTEGRATION_SECRETS[secret].name}`;
