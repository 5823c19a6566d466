// Triage: take a RECEIVED request, gather its context from every
// source in parallel within the time budget, derive evidence, signals and the
// policy that applies, record the bundle, then ask the model for advice and
// record that (or why there is none), then page the owners with all of it and
// tell the requester on Jira. Each step is recorded before the next starts, so
// a redelivered message carries on where the last attempt stopped.

import { type Catalog, type Entitlement, entitlementById } from '../catalog';
import type { EvidenceBundle, RequestContext } from '../context';
import { TransitionConflictError } from '../lifecycle';
import { type AdviceRecord, adviceSummary, seekAdvice } from '../advice/advise';
import { type PromptTemplates, renderPrompt } from '../advice/prompt';
import type { AccessRequest, AuditEvent } from '../model';
import { COMMAND_SYNTAX, REVIEW_SYNTAX } from '../decide/command';
import { type Page, renderPage } from '../page/page';
import type { Advisor, IncidentRef, Pager, StepUp, Tracker, WorkQueue } from '../ports';
import { PUSH_POLL_SECONDS } from '../push';
import { type Proof, requesterProof } from './requester-proof';
import { approvalByRule, type RuleApproval, shiftNotice } from './rules';
import { type ApprovalPlan, approvalPlan, describePlan, hasStages } from '../decide/stages';
import type { ShiftDeps } from '../shift';
import { TRIAGE_DEADLINE_MS } from '../intake/intake';
import { type GatherDeps, type GatherOptions, gatherContext } from './gather';
import { minute } from './text';
import { type AssembleOptions, assembleBundle, type PolicyChunk } from './index';

export interface TriageDeps extends GatherDeps {
  catalog: Catalog;
  /** The written policy, chunked once per cold start. */
  policyChunks: readonly PolicyChunk[];
  countTokens: (text: string) => number;
  /** The recommendation prompt, checked once per cold start. */
  prompt: PromptTemplates;
  /** Absent when no model is configured: the request goes on without a recommendation and says so. */
  advisor?: Advisor;
  pager: Pager;
  tracker: Pick<Tracker, 'comment'>;
  /** Rule-approved requests go straight to provisioning; a request waiting for its requester's push comes back to triage. */
  queue: WorkQueue;
  /** The requester's Okta Verify push, for entitlements whose catalog entry asks for it. */
  stepUp: StepUp;
  /** The requester's PagerDuty shifts, found from the directory person (on-call-auto, endWithShift). */
  shifts?: ShiftDeps;
}

export interface TriageSettings {
  gather: GatherOptions;
  tokenBudget: number;
  links?: AssembleOptions['links'];
  /** How long a page may wait for a decision before the sweeper cancels the request. */
  decisionTimeoutMs: number;
  /** How long an APPROVED request may wait for provisioning before the sweeper sends it again. */
  provisionDueMs: number;
}

export type TriageOutcome =
  | { kind: 'skipped'; reason: string }
  | { kind: 'rejected'; request: AccessRequest; reason: string }
  | { kind: 'waiting'; request: AccessRequest; reason: string }
  | { kind: 'paged'; request: AccessRequest; bundle: EvidenceBundle; advice: AdviceRecord; page: Page }
  | {
      kind: 'approved';
      request: AccessRequest;
      bundle: EvidenceBundle;
      advice: AdviceRecord;
      page: Page;
      rule: RuleApproval['rule'];
    };

const TRIAGE_ACTOR = { kind: 'system', id: 'triage' } as const;
const ADVISOR_ACTOR = { kind: 'system', id: 'advisor' } as const;

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
  let trail: AuditEvent[] = [];
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
    // A redelivered message: carry on from the last step the earlier attempt recorded.
    trail = await deps.store.listAuditEvents(requestId);
  } else {
    return { kind: 'skipped', reason: `request is ${request.state}` };
  }

  const entitlement = entitlementById(deps.catalog, request.entitlementId);
  if (!entitlement) {
    return reject(deps, request, `entitlement ${request.entitlementId} is no longer in the catalog`);
  }
  // Sent first, so the requester answers while the context is gathered.
  if (entitlement.stepUp.requester && !request.requesterProof) {
    const proof = await requesterProof(deps, request);
    if (proof.kind === 'refused') return reject(deps, proof.request, proof.reason);
    request = proof.request;
    await deps.tracker.comment(
      request.jiraIssueKey,
      `An Okta Verify push was sent to your device to confirm that you filed this request. ` +
        `Accept it within 5 minutes: nothing is paged or granted until you do.`,
    );
  }

  let bundle = recorded(trail, 'bundle');
  if (!bundle) {
    const context = await gatherContext(deps, request, entitlement, settings.gather);
    bundle = assembleBundle(context, {
      now: deps.clock.now(),
      policyChunks: deps.policyChunks,
      tokenBudget: settings.tokenBudget,
      countTokens: deps.countTokens,
      ...(settings.links ? { links: settings.links } : {}),
    });
    request = await deps.store.transition({
      requestId,
      from: 'TRIAGING',
      to: 'TRIAGING',
      expectedVersion: request.version,
      audit: {
        actor: TRIAGE_ACTOR,
        reason: `context gathered: ${bundle.evidence.length} facts, ${bundle.signals.length} signals`,
        evidence: { sources: sourceStatus(context), bundle: { ...bundle } },
      },
      changes: { dueAt: dueAt(), ...(context.conflicts?.length ? { conflicts: context.conflicts } : {}) },
    });
  }

  let advice = recorded(trail, 'advice');
  if (!advice) {
    const prompt = renderPrompt(deps.prompt, {
      now: deps.clock.now(),
      request,
      entitlement,
      catalog: deps.catalog,
      bundle,
    });
    advice = await seekAdvice(deps.advisor, prompt, entitlement);
    request = await deps.store.transition({
      requestId,
      from: 'TRIAGING',
      to: 'TRIAGING',
      expectedVersion: request.version,
      audit: {
        actor: ADVISOR_ACTOR,
        reason:
          advice.status === 'advised'
            ? `advice recorded: ${advice.advice.recommendation} (confidence ${advice.advice.confidence})`
            : `no recommendation: ${advice.reason}`,
        evidence: { advice: { ...advice } },
      },
      changes: { dueAt: dueAt(), advice: adviceSummary(advice) },
    });
  }

  if (entitlement.stepUp.requester) {
    const proof: Proof = await requesterProof(deps, request);
    request = proof.request;
    if (proof.kind === 'refused') return reject(deps, request, proof.reason);
    if (proof.kind === 'waiting') {
      await deps.queue.send('triage', { requestId }, { delaySeconds: PUSH_POLL_SECONDS });
      return { kind: 'waiting', request, reason: 'the requester has not answered the Okta Verify push yet' };
    }
  }

  // Break-glass is an emergency bypass, reviewed after the fact as one: through a conflict it is
  // refused outright (not turned into a page the requester would wait on believing they have access).
  if (request.breakGlass && entitlement.breakGlass.allowed && (request.conflicts?.length ?? 0) > 0) {
    return reject(
      deps,
      request,
      `${conflictComment(request, entitlement).join(' ')} Break-glass never grants through a separation-of-duties conflict. ` +
        "File the request again without break-glass: it then waits for the owners and the conflict's approvers.",
    );
  }
  const rule = await approvalByRule(deps, request, entitlement);
  const plan = hasStages(entitlement, request) ? await stagesForPage(deps, request, entitlement) : undefined;
  const notice = rule ? undefined : await shiftNotice(deps, request, entitlement);
  // The incident key is the request id: a retry after a crash finds the incident instead of paging twice.
  const page = renderPage({
    request,
    entitlement,
    bundle,
    advice,
    ...(settings.links?.jiraBaseUrl
      ? { ticketUrl: issueUrl(settings.links.jiraBaseUrl, request.jiraIssueKey) }
      : {}),
    // A break-glass page addresses its reviewers, who review rather than decide.
    answerSyntax: rule?.rule === 'break-glass' ? REVIEW_SYNTAX : COMMAND_SYNTAX,
    ...(rule ? { banner: rule.explanation } : notice ? { banner: notice } : {}),
    ...(plan ? { stages: describePlan(plan) } : {}),
  });
  const incident = await deps.pager.openIncident({
    incidentKey: request.id,
    serviceId: entitlement.owners.service,
    escalationPolicyId: rule?.escalationPolicyId ?? entitlement.owners.escalationPolicy,
    title: rule
      ? `${rule.rule === 'break-glass' ? 'BREAK-GLASS' : 'Granted by rule'}: ${page.title}`
      : page.title,
    urgency: rule?.urgency ?? page.urgency,
    details: page.details,
  });
  if (rule)
    return approveByRule(deps, settings, { request, entitlement, bundle, advice, page, incident, rule });
  if (incident.created)
    await deps.pager.addNote(incident.id, `How to answer, in a note on this incident:\n${COMMAND_SYNTAX}`);
  // Before the state write: a crash in between repeats the comment rather than losing it.
  await deps.tracker.comment(
    request.jiraIssueKey,
    [
      ...conflictComment(request, entitlement),
      `The owners of ${entitlement.id} have been paged: ${incident.url}`,
      plan
        ? `Approval goes in stages, each decided by different people, in this order:\n${describePlan(plan).join('\n')}\nThe decision will be posted here.`
        : `${entitlement.approvalsRequired === 1 ? 'An approver' : `${entitlement.approvalsRequired} approvers`} will answer on the incident; the decision will be posted here.`,
      ...(notice ? [notice] : []),
    ].join('\n'),
  );
  request = await deps.store.transition({
    requestId,
    from: 'TRIAGING',
    to: 'PENDING',
    expectedVersion: request.version,
    audit: {
      actor: TRIAGE_ACTOR,
      reason: `owners paged: PagerDuty incident ${incident.id} (${page.urgency} urgency)`,
      evidence: { incident: { ...incident }, page: { ...page } },
    },
    changes: {
      incidentId: incident.id,
      dueAt: new Date(deps.clock.now().getTime() + settings.decisionTimeoutMs).toISOString(),
    },
  });
  return { kind: 'paged', request, bundle, advice, page };
}

/** APPROVED by a catalog rule: provisioning is queued at once; the page was a notification (or, for break-glass, a review). */
async function approveByRule(
  deps: TriageDeps,
  settings: TriageSettings,
  input: {
    request: AccessRequest;
    entitlement: Entitlement;
    bundle: EvidenceBundle;
    advice: AdviceRecord;
    page: Page;
    incident: IncidentRef;
    rule: RuleApproval;
  },
): Promise<TriageOutcome> {
  const { entitlement, incident, rule } = input;
  await deps.tracker.comment(
    input.request.jiraIssueKey,
    rule.rule === 'break-glass'
      ? `Break-glass: the access to ${entitlement.id} is being granted at once. The break-glass reviewers were paged to review it after the fact: ${incident.url}`
      : `Approved by the catalog rule ${rule.rule}; the access to ${entitlement.id} is being granted${rule.shiftEnd ? ` until your shift ends at ${minute(rule.shiftEnd)}` : ''}. The owners were notified: ${incident.url}`,
  );
  const now = deps.clock.now();
  const request = await deps.store.transition({
    requestId: input.request.id,
    from: 'TRIAGING',
    to: 'APPROVED',
    expectedVersion: input.request.version,
    audit: {
      actor: { kind: 'rule', id: rule.rule },
      reason: rule.explanation,
      evidence: { incident: { ...incident }, page: { ...input.page }, rule: rule.rule },
    },
    changes: {
      incidentId: incident.id,
      decisions: [
        {
          outcome: 'approve',
          actor: { kind: 'rule', id: rule.rule },
          decidedAt: now.toISOString(),
          comment: rule.explanation,
          ...(rule.durationSeconds ? { durationSeconds: rule.durationSeconds } : {}),
        },
      ],
      // The sweeper re-drives it if the provisioning message is lost.
      dueAt: new Date(now.getTime() + settings.provisionDueMs).toISOString(),
    },
  });
  await deps.queue.send('provision', { requestId: request.id });
  return {
    kind: 'approved',
    request,
    bundle: input.bundle,
    advice: input.advice,
    page: input.page,
    rule: rule.rule,
  };
}

/** Why a request a rule would have granted waits for people: a separation-of-duties conflict. */
function conflictComment(request: AccessRequest, entitlement: Entitlement): string[] {
  const conflicts = request.conflicts ?? [];
  if (conflicts.length === 0) return [];
  const byRule = entitlement.mode !== 'approval' ? entitlement.mode : undefined;
  const what = conflicts.map((c) =>
    c.held.length
      ? `${c.id}: you already hold ${c.held.join('; ')}`
      : `${c.id}: could not be ruled out (${c.unchecked.join('; ')} not checked)`,
  );
  return [
    `Separation of duties: ${entitlement.id} conflicts with access you hold (${what.join('. ')}).` +
      (byRule
        ? ` The ${byRule} rule never grants through a conflict, so this request waits for approval instead.`
        : ''),
  ];
}

/** The approval stages for the page; a directory that does not answer now is read again at every approval. */
async function stagesForPage(
  deps: TriageDeps,
  request: AccessRequest,
  entitlement: Entitlement,
): Promise<ApprovalPlan> {
  try {
    return await approvalPlan(deps, request, entitlement);
  } catch {
    return {
      stages: [],
      notes: [
        'The approval stages could not be read from the directory (Okta did not answer); loopgate reads them again at every approval.',
      ],
    };
  }
}

/** Ends the request during triage and tells the requester why; nobody was paged. */
async function reject(deps: TriageDeps, request: AccessRequest, reason: string): Promise<TriageOutcome> {
  // Before the state write: a retry finds the request REJECTED and stops, so a comment after it could be lost.
  await deps.tracker.comment(request.jiraIssueKey, `This request was not granted: ${reason}`);
  const rejected = await deps.store.transition({
    requestId: request.id,
    from: 'TRIAGING',
    to: 'REJECTED',
    expectedVersion: request.version,
    audit: { actor: TRIAGE_ACTOR, reason },
  });
  return { kind: 'rejected', request: rejected, reason };
}

function issueUrl(jiraBaseUrl: string, key: string): string {
  return `${jiraBaseUrl.replace(/\/+$/, '')}/browse/${encodeURIComponent(key)}`;
}

/** What an earlier attempt recorded during triage: the bundle, or the advice. */
function recorded(trail: readonly AuditEvent[], what: 'bundle'): EvidenceBundle | undefined;
function recorded(trail: readonly AuditEvent[], what: 'advice'): AdviceRecord | undefined;
function recorded(trail: readonly AuditEvent[], what: 'bundle' | 'advice') {
  const event = trail.find((e) => e.from === 'TRIAGING' && e.to === 'TRIAGING' && e.evidence?.[what]);
  return event?.evidence?.[what];
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
