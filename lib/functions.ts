// loopgate's functions and how each is bundled, as plain data: the CDK
// construct (lib/loopgate-function.ts) and the bundle bench
// (test/bench/bundles.ts) both build from here, so the bench measures exactly
// what is deployed. No CDK imports, so the bench stays light.

import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SecretId } from './integration-secrets';

/** The repository root: entries, the lock file and the bundled files are found from here. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

export const FUNCTION_NAMES = [
  'jira-webhook',
  'triage',
  'pagerduty-webhook',
  'decide',
  'provision',
  'revoke',
  'sweeper',
] as const;
export type FunctionName = (typeof FUNCTION_NAMES)[number];

export interface FunctionSpec {
  memoryMb: number;
  timeoutSeconds: number;
  /** The integration secrets it reads, and only those. */
  secrets: readonly SecretId[];
  /** Whether it reads the prompt templates and the written policy (triage only). */
  prompts: boolean;
}

// Webhooks answer within seconds (PagerDuty gives up after 5 s, Jira after about 10 s): their
// timeouts only stop a stuck call. Triage waits up to 8 s for context and 20 s for the model.
export const FUNCTIONS: Record<FunctionName, FunctionSpec> = {
  'jira-webhook': {
    memoryMb: 512,
    timeoutSeconds: 15,
    // No PagerDuty key: what a closed ticket tells the incident is delivered by the decide function.
    secrets: ['jira', 'jiraWebhook', 'okta'],
    prompts: false,
  },
  triage: {
    memoryMb: 1024,
    timeoutSeconds: 60,
    secrets: ['jira', 'okta', 'slack', 'pagerduty', 'model'],
    prompts: true,
  },
  // Checks the signature and queues the event: no vendor token, so a flaw here reaches no vendor.
  'pagerduty-webhook': {
    memoryMb: 256,
    timeoutSeconds: 10,
    secrets: ['pagerdutyWebhook'],
    prompts: false,
  },
  decide: { memoryMb: 512, timeoutSeconds: 60, secrets: ['jira', 'okta', 'pagerduty'], prompts: false },
  provision: { memoryMb: 512, timeoutSeconds: 60, secrets: ['jira', 'okta', 'pagerduty'], prompts: false },
  revoke: { memoryMb: 512, timeoutSeconds: 60, secrets: ['jira', 'okta', 'pagerduty'], prompts: false },
  sweeper: { memoryMb: 512, timeoutSeconds: 120, secrets: ['jira', 'okta', 'pagerduty'], prompts: false },
};

/** Fixed names: the revoke function's ARN is built from its name (it reads its own ARN). */
export const functionNameOf = (stage: string, name: FunctionName) => `loopgate-${stage}-${name}`;

export const entryOf = (name: FunctionName) => join(PROJECT_ROOT, 'lambdas', 'handlers', `${name}.ts`);

/** Where the function's code and files are on Lambda. */
export const TASK_ROOT = '/var/task';
/** Inside each bundle, relative to its root. */
export const BUNDLED = {
  catalog: 'config/catalog.yaml',
  promptDir: 'prompts/recommendation',
  policyDir: 'prompts/policy',
} as const;

/** Files copied next to the bundle: [absolute source, path inside the bundle]. */
export function bundledFiles(name: FunctionName, catalogFile: string): Array<[string, string]> {
  const catalog = isAbsolute(catalogFile) ? catalogFile : resolve(PROJECT_ROOT, catalogFile);
  return [
    [catalog, BUNDLED.catalog],
    ...(FUNCTIONS[name].prompts
      ? ([
          [join(PROJECT_ROOT, BUNDLED.promptDir), BUNDLED.promptDir],
          [join(PROJECT_ROOT, BUNDLED.policyDir), BUNDLED.policyDir],
        ] as Array<[string, string]>)
      : []),
  ];
}

/**
 * esbuild's options, as NodejsFunction passes them. CommonJS: the code never uses import.meta
 * and several dependencies (the Okta SDK) are CommonJS that `require` Node's built-ins, which an
 * ESM bundle cannot do without a createRequire banner. The AWS SDK v3 (and its @smithy
 * packages) is bundled although the nodejs22.x runtime has a copy: the functions then run the
 * version the lock file pins and the tests ran, whose request timeouts (throwOnRequestTimeout)
 * loopgate relies on; the runtime's copy is older and changes under the function. It costs about
 * 650 KB per function (the pagerduty-webhook bundle: 489 KB to 1,131 KB). keepNames: errors
 * take their name from their class (`this.name = new.target.name`), so a minified bundle would
 * log `Zr: environment variable … is required` instead of `ConfigurationError: …`.
 */
export const ESBUILD = {
  target: 'node22',
  format: 'cjs',
  minify: true,
  keepNames: true,
  sourcemap: true,
  sourcesContent: false,
  external: [] as string[],
} as const;

/** Lambda runs Node with this, so stack traces point at the TypeScript (the bench loads with it too). */
export const NODE_OPTIONS = '--enable-source-maps';
