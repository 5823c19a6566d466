// Triage, first half: take a RECEIVED request, gather its context from every
// source in parallel within the time budget, derive evidence, signals and the
// policy that applies, and record the bundle in the audit trail. The page to
// the owners (the second half) builds on what is recorded here.

import { type Catalog, entitlementById } from '../catalog';
import type { EvidenceBundle, RequestContext } from '../context';
import { TransitionConflictError } from '../lifecycle';
import type { AccessRequest } from '../model';
import { TRIAGE_DEADLINE_MS } from '../intake/intake';
import { type GatherDeps, type GatherOptions, gatherContext } from './gather';
import { type AssembleOptions, assembleBundle, type PolicyChunk } from './index';

export interface TriageDeps extends GatherDeps {
  catalog: Catalog;
  /** The written policy, chunked once per cold start. */
  policyChunks: readonly PolicyChunk[];
  countTokens: (text: string) => number;
}

export interface TriageSettings {
  gather: GatherOptions;
  tokenBudget: number;
  links?: AssembleOptions['links'];
}

export type TriageOutcome =
  | { kind: 'skipped'; reason: string }
  | { kind: 'rejected'; request: AccessRequest; reason: string }
  | { kind: 'recorded'; request: AccessRequest; bundle: EvidenceBundle };

const TRIAGE_ACTOR = { kind: 'system', id: 'triage' } as const;

/** Safe to run twice for one request (queues deliver at least once): a lost race is a skip, not an error. */
export async function triageRequest(
  deps: TriageDeps,
  settings: TriageSettings,
  requestId: string,
): Promise<TriageOutcome> {
  try {
    return await triage(deps, settings, requestId);
  } catch (error) {
    if (error instanceof TransitionConflictError)
      return { kind: 'skipped', reason: 'another worker moved the request first' };
    throw error;
  }
}

async function triage(deps: TriageDeps, settings: TriageSettings, requestId: string): Promise<TriageOutcome> {
  let request = await deps.store.get(requestId);
  if (!request) return { kind: 'skipped', reason: `no request ${requestId}` };
  const dueAt = () => new Date(deps.clock.now().getTime() + TRIAGE_DEADLINE_MS).toISOString();
  if (request.state === 'RECEIVED') {
    request = await deps.store.transition({
      requestId,
      from: 'RECEIVED',
      to: 'TRIAGING',
      expectedVersion: request.version,
      audit: { actor: TRIAGE_ACTOR, reason: 'triage started' },
      changes: { dueAt: dueAt() },
    });
  } else if (request.state === 'TRIAGING') {
    // A redelivered message: gather only if the earlier attempt stopped before recording.
    const trail = await deps.store.listAuditEvents(requestId);
    if (trail.some((e) => e.from === 'TRIAGING' && e.to === 'TRIAGING')) {
      return { kind: 'skipped', reason: 'context already recorded' };
    }
  }
  if (request.state !== 'TRIAGING') return { kind: 'skipped', reason: `request is ${request.state}` };

  const entitlement = entitlementById(deps.catalog, request.entitlementId);
  if (!entitlement) {
    const reason = `entitlement ${request.entitlementId} is no longer in the catalog`;
    const rejected = await deps.store.transition({
      requestId,
      from: 'TRIAGING',
      to: 'REJECTED',
      expectedVersion: request.version,
      audit: { actor: TRIAGE_ACTOR, reason },
    });
    return { kind: 'rejected', request: rejected, reason };
  }

  const context = await gatherContext(deps, request, entitlement, settings.gather);
  const bundle = assembleBundle(context, {
    now: deps.clock.now(),
    policyChunks: deps.policyChunks,
    tokenBudget: settings.tokenBudget,
    countTokens: deps.countTokens,
    ...(settings.links ? { links: settings.links } : {}),
  });
  const recorded = await deps.store.transition({
    requestId,
    from: 'TRIAGING',
    to: 'TRIAGING',
    expectedVersion: request.version,
    audit: {
      actor: TRIAGE_ACTOR,
      reason: `context gathered: ${bundle.evidence.length} facts, ${bundle.signals.length} signals`,
      evidence: { sources: sourceStatus(context), bundle: { ...bundle } },
    },
    changes: { dueAt: dueAt() },
  });
  return { kind: 'recorded', request: recorded, bundle };
}

/** Which sources answered, and why the others did not. */
function sourceStatus(context: RequestContext): Record<string, string> {
  const sources = {
    okta: context.directory,
    iam: context.cloud,
    slack: context.chat,
    pagerduty: context.onCall,
    history: context.history,
  };
  return Object.fromEntries(
    Object.entries(sources).map(([name, s]) => [name, s.status === 'ok' ? 'ok' : `unavailable: ${s.reason}`]),
  );
}
