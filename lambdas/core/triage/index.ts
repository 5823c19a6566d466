// Triage's pure core: gather context from the ports, turn it into evidence,
// deterministic risk signals and cited policy excerpts, and render the bundle
// the approver and the model read within a token budget.

import type { EvidenceBundle, RequestContext } from '../context';
import { renderBundle } from './bundle';
import { buildEvidence, type EvidenceLinks } from './evidence';
import { type PolicyChunk, policyQuery, retrievePolicy } from './policy';
import { deriveSignals } from './signals';

export { bundleLines, POLICY_PRIORITY, renderBundle, type RenderOptions } from './bundle';
export { buildEvidence, type EvidenceLinks, PRIORITY, type TriageEvidence } from './evidence';
export {
  chatTerms,
  DEFAULT_PER_SOURCE_TIMEOUT_MS,
  EMAIL_UNKNOWN,
  failureReason,
  type GatherDeps,
  type GatherOptions,
  gatherContext,
  type IamPrincipal,
  NOT_IN_DIRECTORY,
} from './gather';
export { findInstructions, INSTRUCTION_RULES, type InstructionMatch } from './instructions';
export {
  checkPolicyLinks,
  chunkPolicy,
  type PolicyChunk,
  type PolicyFile,
  policyQuery,
  QUERY_WEIGHTS,
  type QueryPart,
  retrievePolicy,
  SIGNAL_POLICY_TERMS,
  tokenize,
} from './policy';
export { deriveSignals, SEVERITY_RANK, SIGNAL_IDS } from './signals';

export interface AssembleOptions {
  now: Date;
  /** The policy, chunked once per cold start with chunkPolicy. */
  policyChunks: readonly PolicyChunk[];
  /** How many policy excerpts to offer (default 4). */
  policyExcerpts?: number;
  tokenBudget: number;
  countTokens: (text: string) => number;
  links?: EvidenceLinks;
}

/** Evidence, signals and policy for a gathered context, rendered within the budget. */
export function assembleBundle(context: RequestContext, options: AssembleOptions): EvidenceBundle {
  const evidence = buildEvidence(context, options.now, options.links);
  const signals = deriveSignals(context, evidence, options.now);
  const policy = retrievePolicy(
    options.policyChunks,
    policyQuery(context, signals),
    options.policyExcerpts ?? 4,
    context.entitlement.policy,
  );
  return renderBundle({ evidence, signals, policy }, options);
}
