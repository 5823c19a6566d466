// What the CDK tests share: the context `npx cdk synth` runs with (cdk.json,
// feature flags and the example stage included), so the tests check the app
// users deploy, plus a switch to skip bundling where code assets do not matter.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../lib/functions';
import type { StageConfig } from '../../lib/stage-config';

const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as {
  context: Record<string, unknown> & { loopgate: Record<string, unknown> };
};

/** The stage configuration of cdk.json, as written there (before validation). */
export const exampleStage = (): Record<string, unknown> => structuredClone(cdkJson.context.loopgate);

/** cdk.json's context with `stage` in place of its `loopgate` key; no bundling unless asked. */
export function cdkContext(
  stage: Record<string, unknown> | Partial<StageConfig> = exampleStage(),
  options: { bundle?: boolean } = {},
): Record<string, unknown> {
  return {
    ...structuredClone(cdkJson.context),
    loopgate: stage,
    // An empty list skips every stack's bundling: templates without code, in a second.
    ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
  };
}
