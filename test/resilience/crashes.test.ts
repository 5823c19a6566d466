// A crash between each side effect and the state write that records it. The
// first attempt runs here, with the function's own dependencies built by the
// wiring, on a store whose transition after the side effect throws ("the
// process died"); then the real function in the sandbox takes over the way it
// would on AWS (the queue's redelivery, the sweeper) and must converge: one
// incident, one grant, one revoke, the right `preExisting`, the right state.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessRequest, AuditEvent, RequestState } from '../../lambdas/core/model';
import type { RequestStore } from '../../lambdas/core/ports';
import { grantRequest, revokeRequest } from '../../lambdas/core/provision/provision';
import { triageRequest } from '../../lambdas/core/triage/triage';
import { Env, readProvisionConfig, readTriageConfig } from '../../lambdas/platform/env';
import { wireProvision } from '../../lambdas/wiring/provision';
import { wireTriage } from '../../lambdas/wiring/triage';
import { Sandbox } from '../../sandbox/world';
import { until } from '../support/sandbox-flow';
import { iamInlinePolicies, incidentsFor, oktaMember, settle, sweep } from './support/drive';

let sandbox: Sandbox;
const MINUTE = 60_000;
const READONLY = '00g1prodreadonly0001';

beforeAll(async () => {
  sandbox = await Sandbox.start({ log: () => {} });
});

afterAll(() => sandbox?.stop());

const trailOf = (request: AccessRequest) => sandbox.store.listAuditEvents(request.id);
const steps = (trail: AuditEvent[], from: RequestState, to: RequestState) =>
  trail.filter((e) => e.from === from && e.to === to);

/** The store, except that the transition to `to` dies, as the process would right before writing it. */
function dyingBefore(store: RequestStore, to: RequestState): RequestStore {
  return Object.assign(Object.create(store) as RequestStore, {
    transition: (input: Parameters<RequestStore['transition']>[0]) =>
      input.to === to ? Promise.reject(new Error('the process died')) : store.transition(input),
  });
}

const environment = () => new Env(sandbox.loopgateEnvironment());
const provisioning = (name: 'provision' | 'revoke') =>
  wireProvision(readProvisionConfig(environment()), name, { clock: sandbox.clock, log: () => {} });

/** Waits for `state` without delivering anything itself (a held queue stays held). */
const reached = (id: string, state: RequestState) =>
  until(`${id} to be ${state}`, async () => {
    const r = await sandbox.store.get(id);
    return r?.state === state ? r : undefined;
  });

/** Waits for `state`, then for everything it set off (notes, comments, queued work). */
async function inState(id: string, state: RequestState): Promise<AccessRequest> {
  await reached(id, state);
  await settle(sandbox);
  return (await sandbox.store.get(id)) as AccessRequest;
}

async function paged(reporter: string, entitlement: string): Promise<AccessRequest> {
  const { key } = sandbox.jira.fileTicket({
    reporter,
    entitlement,
    duration: '1h',
    justification: 'INC-4411 checkout latency in production',
  });
  await sandbox.jira.settled();
  const request = await until(`${key} to be paged`, async () => {
    const r = await sandbox.store.getByJiraIssueKey(key);
    return r?.state === 'PENDING' && r.incidentId ? r : undefined;
  });
  await settle(sandbox);
  return request;
}

const approverOf = (entitlement: string) => (entitlement === 'aws-logs-read' ? 'ana' : 'priya');

async function granted(reporter: string, entitlement: string): Promise<AccessRequest> {
  const request = await paged(reporter, entitlement);
  sandbox.pagerduty.addNote(request.incidentId ?? '', approverOf(entitlement), 'approve');
  await sandbox.settled();
  return inState(request.id, 'GRANTED');
}

/** Whether the requester holds the entitlement's access in the stand-in. */
function holds(request: AccessRequest): boolean {
  const email = request.requester.email ?? '';
  if (request.entitlementId === 'aws-logs-read') {
    return iamInlinePolicies(sandbox, email.split('@')[0] ?? '').includes(`loopgate-${request.id}`);
  }
  return oktaMember(sandbox, READONLY, email);
}

describe('provision: the grant is made, GRANTED is not written', () => {
  it.each([
    ['chloe', 'okta-prod-readonly', false],
    // Dana is in prod-readonly already: the redelivery must not count loopgate's grant as hers.
    ['dana', 'okta-prod-readonly', true],
    ['tomas', 'aws-logs-read', false],
  ] as const)('%s, %s: the redelivery converges to one grant', async (reporter, entitlement, preExisting) => {
    const request = await paged(reporter, entitlement);
    // Hold the provision queue so this test plays the first delivery itself.
    await sandbox.host.sqs.stopPolling();
    try {
      sandbox.pagerduty.addNote(request.incidentId ?? '', approverOf(entitlement), 'approve');
      await sandbox.settled();
      await reached(request.id, 'APPROVED');
      const { deps, settings } = provisioning('provision');
      await expect(
        grantRequest({ ...deps, store: dyingBefore(deps.store, 'GRANTED') }, settings, request.id, {
          finalAttempt: false,
        }),
      ).rejects.toThrow('the process died');
      expect(holds(request)).toBe(true);
      expect((await sandbox.store.get(request.id))?.state).toBe('APPROVED');
    } finally {
      sandbox.host.sqs.startPolling();
    }

    const done = await inState(request.id, 'GRANTED');
    expect(done.grant?.preExisting).toBe(preExisting);
    const trail = await trailOf(request);
    expect(trail.filter((e) => e.evidence?.provisioning)).toHaveLength(1);
    expect(steps(trail, 'APPROVED', 'GRANTED')).toHaveLength(1);
    if (entitlement === 'aws-logs-read') {
      expect(iamInlinePolicies(sandbox, 'tomas.silva')).toEqual([`loopgate-${request.id}`]);
    }

    sandbox.clock.advance(Date.parse(done.grant?.expiresAt ?? '') - sandbox.clock.now().getTime() + MINUTE);
    await sandbox.host.scheduler.runDue();
    const revoked = await inState(request.id, 'REVOKED');
    expect(steps(await trailOf(revoked), 'GRANTED', 'REVOKED')).toHaveLength(1);
    // What loopgate granted is gone; what Dana held before is kept.
    expect(holds(revoked)).toBe(preExisting);
  });
});

describe('revoke: the access is removed, REVOKED is not written', () => {
  it.each([
    ['kenji', 'okta-prod-readonly', false],
    ['dana', 'okta-prod-readonly', true],
    ['grace', 'aws-logs-read', false],
  ] as const)(
    '%s, %s: at expiry, the sweeper converges to one revoke',
    async (reporter, entitlement, preExisting) => {
      const grantedRequest = await granted(reporter, entitlement);
      expect(grantedRequest.grant?.preExisting).toBe(preExisting);
      // Hold the schedules so this test plays the expiry's revoke itself.
      await sandbox.host.scheduler.stopTimer();
      try {
        sandbox.clock.advance(
          Date.parse(grantedRequest.grant?.expiresAt ?? '') - sandbox.clock.now().getTime() + MINUTE,
        );
        const { deps, settings } = provisioning('revoke');
        await expect(
          revokeRequest({ ...deps, store: dyingBefore(deps.store, 'REVOKED') }, settings, grantedRequest.id, {
            finalAttempt: false,
          }),
        ).rejects.toThrow('the process died');
        expect(holds(grantedRequest)).toBe(preExisting);
        expect((await sandbox.store.get(grantedRequest.id))?.state).toBe('GRANTED');
      } finally {
        sandbox.host.scheduler.startTimer();
      }

      // The crashed attempt had deleted the schedule: the sweeper is what finishes the job.
      await sandbox.host.scheduler.runDue();
      await sweep(sandbox);
      const revoked = await inState(grantedRequest.id, 'REVOKED');
      const trail = await trailOf(revoked);
      expect(steps(trail, 'GRANTED', 'REVOKED')).toHaveLength(1);
      expect(trail.filter((e) => e.to === 'FAILED')).toHaveLength(0);
      expect(holds(revoked)).toBe(preExisting);
      if (preExisting) expect(trail.at(-1)?.reason).toMatch(/the access the requester held before was kept/);
    },
  );

  it('an early revoke from the revoke queue converges on redelivery', async () => {
    const grantedRequest = await granted('ivan', 'okta-prod-readonly');
    await sandbox.host.sqs.stopPolling();
    try {
      sandbox.pagerduty.addNote(grantedRequest.incidentId ?? '', 'priya', 'revoke work is done');
      await sandbox.settled();
      const { deps, settings } = provisioning('revoke');
      await expect(
        revokeRequest({ ...deps, store: dyingBefore(deps.store, 'REVOKED') }, settings, grantedRequest.id, {
          finalAttempt: false,
        }),
      ).rejects.toThrow('the process died');
      expect(holds(grantedRequest)).toBe(false);
    } finally {
      sandbox.host.sqs.startPolling();
    }

    const revoked = await inState(grantedRequest.id, 'REVOKED');
    expect(steps(await trailOf(revoked), 'GRANTED', 'REVOKED')).toHaveLength(1);
    expect(holds(revoked)).toBe(false);
  });
});

describe('triage: the owners are paged, the page is not recorded', () => {
  it.each([
    // Paged and waiting for an approver: the crash is before PENDING.
    ['omar', 'okta-prod-readonly', 'PENDING'],
    // An audit-only entitlement, approved by rule: the crash is before APPROVED.
    ['kenji', 'aws-billing-read', 'APPROVED'],
  ] as const)(
    '%s, %s: the redelivery finds the incident instead of paging twice',
    async (reporter, entitlement, to) => {
      await sandbox.host.sqs.stopPolling();
      let request: AccessRequest;
      let incidentId: string;
      try {
        const { key } = sandbox.jira.fileTicket({
          reporter,
          entitlement,
          duration: '1h',
          justification: 'INC-4411 checkout latency in production',
        });
        await sandbox.jira.settled();
        request = await until(`${key} to be stored`, () => sandbox.store.getByJiraIssueKey(key));
        const { deps, settings } = wireTriage(readTriageConfig(environment()), {
          clock: sandbox.clock,
          log: () => {},
        });
        await expect(
          triageRequest({ ...deps, store: dyingBefore(deps.store, to) }, settings, request.id),
        ).rejects.toThrow('the process died');
        expect(incidentsFor(sandbox, request.id)).toBe(1);
        expect((await sandbox.store.get(request.id))?.state).toBe('TRIAGING');
        const incidents = (
          sandbox.pagerduty.state() as { incidents: { id: string; incident_key?: string }[] }
        ).incidents;
        incidentId = incidents.find((i) => i.incident_key === request.id)?.id ?? '';
      } finally {
        sandbox.host.sqs.startPolling();
      }

      // The triage message is still on the queue: the real function gets it and carries on.
      const next =
        to === 'PENDING' ? await inState(request.id, 'PENDING') : await inState(request.id, 'GRANTED');
      expect(next.incidentId).toBe(incidentId);
      expect(incidentsFor(sandbox, request.id)).toBe(1);
      const trail = await trailOf(next);
      expect(steps(trail, 'TRIAGING', to)).toHaveLength(1);
      // The context and the advice were recorded once, by the first attempt.
      expect(trail.filter((e) => e.evidence?.bundle)).toHaveLength(1);
      expect(trail.filter((e) => e.evidence?.advice)).toHaveLength(1);
      if (to === 'PENDING') {
        const notes = sandbox.pagerduty.incident(incidentId)?.notes.map((n) => n.content) ?? [];
        expect(notes.filter((n) => n.startsWith('How to answer'))).toHaveLength(1);
        sandbox.pagerduty.addNote(incidentId, 'priya', 'approve');
        await sandbox.settled();
        await inState(request.id, 'GRANTED');
      }
      expect(steps(await trailOf(next), 'APPROVED', 'GRANTED')).toHaveLength(1);
    },
  );
});
