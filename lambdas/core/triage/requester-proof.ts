// The requester's proof (the catalog's `stepUp.requester`): nothing is paged or
// granted until the requester accepts an Okta Verify push on their own device.
// A Jira ticket names its reporter, but whoever holds that person's Jira API
// token or session files tickets in their name; for audit-only, on-call-auto
// and break-glass access nobody else looks before the grant, so the push is
// the identity evidence that stands in for an approval.
//
// The push goes out as triage starts, so the person answers while the context
// is gathered. Before it pages or approves, triage reads the answer; while the
// push waits it looks again a little later through its own queue, and the
// request stays TRIAGING, which nothing provisions. A rejected or unanswered
// push, or a requester with no Okta Verify, ends the request REJECTED with a
// Jira comment; a rejection is a security event.

import type { AccessRequest, Actor, PushCheck } from '../model';
import type { Clock, RequestStore, StepUp } from '../ports';
import { pushAnswer } from '../push';

export interface ProofDeps {
  store: RequestStore;
  stepUp: StepUp;
  clock: Clock;
}

export type Proof =
  | { kind: 'accepted'; request: AccessRequest }
  | { kind: 'waiting'; request: AccessRequest }
  /** `reason` is for the audit trail and the requester alike. */
  | { kind: 'refused'; request: AccessRequest; reason: string };

const TRIAGE_ACTOR = { kind: 'system', id: 'triage' } as const;

/** Sends the push if none was sent, else reads its answer (recording it once there is one). */
export async function requesterProof(deps: ProofDeps, request: AccessRequest): Promise<Proof> {
  const personId = request.requester.directoryUserId;
  if (!personId) {
    // Intake rejects a requester it cannot find in the directory; this is a request from before that.
    return { kind: 'refused', request, reason: 'the requester has no Okta account to send a push to' };
  }
  const requester: Actor = { kind: 'person', id: request.requester.email ?? personId, personId };
  const proof = request.requesterProof;
  if (!proof) return send(deps, request, requester);
  if (proof.outcome) return settled(request, proof.outcome);

  const answer = await pushAnswer(deps.stepUp, deps.clock, personId, proof);
  if (answer === 'waiting') return { kind: 'waiting', request };
  const said = {
    accepted: 'the requester accepted the Okta Verify push: the request is theirs',
    rejected: 'the requester rejected the Okta Verify push: someone else may have filed this request',
    'timed-out': 'the requester did not answer the Okta Verify push within 5 minutes',
  }[answer];
  const recorded = await deps.store.transition({
    requestId: request.id,
    from: 'TRIAGING',
    to: 'TRIAGING',
    expectedVersion: request.version,
    audit: {
      actor: requester,
      reason: said,
      evidence: {
        stepUp: answer,
        who: 'requester',
        transactionId: proof.transactionId,
        ...(answer === 'rejected' ? { securityEvent: 'step-up-rejected' } : {}),
      },
    },
    changes: {
      requesterProof: { ...proof, outcome: answer, answeredAt: deps.clock.now().toISOString() },
    },
  });
  return settled(recorded, answer);
}

async function send(deps: ProofDeps, request: AccessRequest, requester: Actor): Promise<Proof> {
  const challenge = await deps.stepUp.push(requester.personId ?? '');
  if (!challenge) {
    return {
      kind: 'refused',
      request,
      reason:
        `${request.entitlementId} is granted only once the requester confirms the request with an Okta Verify push, ` +
        'and the requester has no active Okta Verify push factor. Enroll Okta Verify, then file the request again.',
    };
  }
  const check: PushCheck = { ...challenge, sentAt: deps.clock.now().toISOString() };
  const recorded = await deps.store.transition({
    requestId: request.id,
    from: 'TRIAGING',
    to: 'TRIAGING',
    expectedVersion: request.version,
    audit: {
      actor: TRIAGE_ACTOR,
      reason: `Okta Verify push sent to the requester: nothing is paged or granted until they accept it`,
      evidence: { stepUp: 'sent', who: 'requester', transactionId: challenge.transactionId },
    },
    changes: { requesterProof: check },
  });
  return { kind: 'waiting', request: recorded };
}

function settled(request: AccessRequest, outcome: NonNullable<PushCheck['outcome']>): Proof {
  if (outcome === 'accepted') return { kind: 'accepted', request };
  return {
    kind: 'refused',
    request,
    reason:
      outcome === 'rejected'
        ? 'The Okta Verify push sent to confirm this request was rejected, so nothing was granted or paged. ' +
          'If you did file it, file it again and accept the push; if you did not, tell your security team.'
        : 'The Okta Verify push sent to confirm this request was not answered within 5 minutes, so nothing was granted or paged. ' +
          'File the request again and accept the push on your device.',
  };
}
