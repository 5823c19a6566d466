import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRequestStore } from '../../lambdas/connectors/dynamodb/request-store';
import { keys, TABLE } from '../../lambdas/connectors/dynamodb/schema';
import { NotFoundError, ValidationError } from '../../lambdas/core/errors';
import {
  IllegalTransitionError,
  nextStates,
  TRANSITIONS,
  TransitionConflictError,
} from '../../lambdas/core/lifecycle';
import type { AccessRequest, RequestChanges, RequestState } from '../../lambdas/core/model';
import { TestClock } from '../support/clock';
import { createTestTable, type TestTable } from '../support/dynamodb';
import { auditBy, newRequest } from '../support/requests';

let table: TestTable;
let clock: TestClock;
let store: DynamoRequestStore;

beforeAll(async () => {
  table = await createTestTable();
  clock = new TestClock();
  store = new DynamoRequestStore({ client: table.client, tableName: table.tableName, clock });
});

afterAll(() => table.drop());

/** Moves a request on from the state and version it is in now. */
function move(request: AccessRequest, to: RequestState, changes?: RequestChanges, reason = `to ${to}`) {
  return store.transition({
    requestId: request.id,
    from: request.state,
    to,
    expectedVersion: request.version,
    audit: auditBy(reason),
    changes,
  });
}

/** A fresh request walked to TRIAGING or PENDING through legal transitions. */
async function requestIn(state: 'TRIAGING' | 'PENDING'): Promise<AccessRequest> {
  const { request } = await store.create(newRequest(), auditBy('filed'));
  const triaging = await move(request, 'TRIAGING');
  return state === 'TRIAGING' ? triaging : move(triaging, 'PENDING');
}

describe('create', () => {
  it('opens a RECEIVED request at version 1 with a creation audit event', async () => {
    const input = newRequest();
    const { request, created } = await store.create(input, auditBy('filed in Jira'));

    expect(created).toBe(true);
    expect(request).toMatchObject({ ...input, state: 'RECEIVED', version: 1, decisions: [] });
    expect(await store.get(request.id)).toEqual(request);
    expect(await store.listAuditEvents(request.id)).toEqual([
      {
        requestId: request.id,
        version: 1,
        at: clock.now().toISOString(),
        to: 'RECEIVED',
        actor: { kind: 'system', id: 'test' },
        reason: 'filed in Jira',
      },
    ]);
  });

  it('returns the existing request for a Jira issue key seen before, and writes nothing', async () => {
    const input = newRequest();
    const first = await store.create(input, auditBy('first delivery'));
    const second = await store.create({ ...input, justification: 'a retried delivery' }, auditBy('retry'));

    expect(second).toEqual({ request: first.request, created: false });
    expect(await store.listAuditEvents(first.request.id)).toHaveLength(1);
  });

  it('creates exactly one request when the same issue arrives ten times at once', async () => {
    const input = newRequest();
    const results = await Promise.all(
      Array.from({ length: 10 }, () => store.create(input, auditBy('burst'))),
    );

    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.request.id)).size).toBe(1);
  });
});

describe('lookups', () => {
  it('finds a request by id, by Jira issue key and by PagerDuty incident id', async () => {
    const triaging = await requestIn('TRIAGING');
    const pending = await move(triaging, 'PENDING', { incidentId: 'Q1INCIDENT0001' });

    expect(await store.get(triaging.id)).toEqual(pending);
    expect(await store.getByJiraIssueKey(triaging.jiraIssueKey)).toEqual(pending);
    expect(await store.getByIncidentId('Q1INCIDENT0001')).toEqual(pending);
  });

  it('answers undefined for ids it does not know', async () => {
    expect(await store.get('no-such-request')).toBeUndefined();
    expect(await store.getByJiraIssueKey('NOPE-1')).toBeUndefined();
    expect(await store.getByIncidentId('QNOSUCHINCIDENT')).toBeUndefined();
  });
});

describe('transition', () => {
  it('moves the state, bumps the version, applies changes and appends the audit event', async () => {
    const triaging = await requestIn('TRIAGING');
    clock.advance(60);
    const dueAt = clock.advance(0).toISOString();
    const pending = await store.transition({
      requestId: triaging.id,
      from: 'TRIAGING',
      to: 'PENDING',
      expectedVersion: 2,
      audit: { actor: { kind: 'system', id: 'triage' }, reason: 'owners paged', evidence: { riskScore: 42 } },
      changes: { incidentId: 'Q1INCIDENT0002', dueAt },
    });

    expect(pending).toMatchObject({ state: 'PENDING', version: 3, incidentId: 'Q1INCIDENT0002', dueAt });
    expect(pending.updatedAt).toBe(clock.now().toISOString());
    const trail = await store.listAuditEvents(triaging.id);
    expect(trail.map((e) => [e.version, e.from, e.to])).toEqual([
      [1, undefined, 'RECEIVED'],
      [2, 'RECEIVED', 'TRIAGING'],
      [3, 'TRIAGING', 'PENDING'],
    ]);
    expect(trail[2]).toMatchObject({ reason: 'owners paged', evidence: { riskScore: 42 } });
  });

  it('clears the due time of the previous state when the next one sets none', async () => {
    const pending = await requestIn('PENDING');
    const withDue = await move(
      pending,
      'PENDING',
      { dueAt: clock.now().toISOString() },
      'one approval of two',
    );
    const approved = await move(withDue, 'APPROVED');

    expect(withDue.dueAt).toBeDefined();
    expect(approved.dueAt).toBeUndefined();
    expect((await store.get(pending.id))?.dueAt).toBeUndefined();
  });

  it('refuses an illegal transition by name and writes nothing', async () => {
    const pending = await requestIn('PENDING');
    const attempt = move(pending, 'GRANTED');

    await expect(attempt).rejects.toBeInstanceOf(IllegalTransitionError);
    await expect(attempt).rejects.toThrow(`request ${pending.id} is PENDING and cannot move to GRANTED`);
    expect(await store.get(pending.id)).toEqual(pending);
    expect(await store.listAuditEvents(pending.id)).toHaveLength(3);
  });

  it('reports a conflict naming what it found when the version is stale', async () => {
    const pending = await requestIn('PENDING');
    const attempt = store.transition({
      requestId: pending.id,
      from: 'TRIAGING',
      to: 'PENDING',
      expectedVersion: 2,
      audit: auditBy('replayed message'),
    });

    await expect(attempt).rejects.toBeInstanceOf(TransitionConflictError);
    await expect(attempt).rejects.toMatchObject({
      expected: { state: 'TRIAGING', version: 2 },
      found: { state: 'PENDING', version: 3 },
    });
  });

  it('refuses a due time on a final state', async () => {
    const pending = await requestIn('PENDING');
    const attempt = move(pending, 'DENIED', { dueAt: clock.now().toISOString() });

    await expect(attempt).rejects.toBeInstanceOf(ValidationError);
    expect((await store.get(pending.id))?.state).toBe('PENDING');
  });

  it('reports an unknown request as not found', async () => {
    await expect(
      store.transition({
        requestId: 'no-such-request',
        from: 'RECEIVED',
        to: 'TRIAGING',
        expectedVersion: 1,
        audit: auditBy('triage'),
      }),
    ).rejects.toBeInstanceOf(NotFoundError);
  });

  it('lets exactly one of 20 concurrent identical transitions win, and records it once', async () => {
    const pending = await requestIn('PENDING');
    const outcomes = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        store.transition({
          requestId: pending.id,
          from: 'PENDING',
          to: 'APPROVED',
          expectedVersion: pending.version,
          audit: { actor: { kind: 'person', id: `approver${i}@example.com` }, reason: 'approve' },
        }),
      ),
    );

    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o) => o.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(19);
    for (const o of lost) expect(o.reason).toBeInstanceOf(TransitionConflictError);
    expect(await store.get(pending.id)).toMatchObject({ state: 'APPROVED', version: pending.version + 1 });
    const approvals = (await store.listAuditEvents(pending.id)).filter((e) => e.to === 'APPROVED');
    expect(approvals).toHaveLength(1);
  });

  it('keeps the audit trail in order past version 9', async () => {
    let request = await requestIn('PENDING');
    for (let i = 0; i < 9; i++) request = await move(request, 'PENDING', {}, `approval ${i + 1}`);

    const versions = (await store.listAuditEvents(request.id)).map((e) => e.version);
    expect(versions).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  });
});

/** The shortest path of states from RECEIVED to the target, by breadth-first search over the table. */
function pathTo(target: RequestState): RequestState[] {
  const queue: RequestState[][] = [['RECEIVED']];
  for (let path = queue.shift(); path; path = queue.shift()) {
    const last = path[path.length - 1] as RequestState;
    if (last === target) return path;
    for (const next of nextStates(last)) if (!path.includes(next)) queue.push([...path, next]);
  }
  throw new Error(`${target} is unreachable`);
}

describe('every legal transition, through the store', () => {
  it.each(TRANSITIONS.map((t) => [t.from, t.to, t.when]))('%s → %s (%s)', async (from, to) => {
    let request = (await store.create(newRequest(), auditBy('filed'))).request;
    const states = [...pathTo(from), to];
    for (const next of states.slice(1)) request = await move(request, next);

    expect(request).toMatchObject({ state: to, version: states.length });
    expect((await store.listAuditEvents(request.id)).map((e) => e.to)).toEqual(states);
  });
});

describe('lists', () => {
  it('lists a requester’s requests newest first, whatever the case of the email', async () => {
    const email = `Lee.${Date.now()}@Example.com`;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      clock.advance(60);
      const { request } = await store.create(
        newRequest({ requester: { jiraAccountId: 'lee', email } }),
        auditBy('filed'),
      );
      ids.push(request.id);
    }

    const listed = await store.listByRequester(email.toLowerCase());
    expect(listed.map((r) => r.id)).toEqual([...ids].reverse());
    expect((await store.listByRequester(email, { limit: 2 })).map((r) => r.id)).toEqual([ids[2], ids[1]]);
  });

  it('lists precedents for an entitlement newest first, and nothing of other entitlements', async () => {
    const entitlementId = `aws-billing-read-${Date.now()}`;
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      clock.advance(60);
      ids.push((await store.create(newRequest({ entitlementId }), auditBy('filed'))).request.id);
      await store.create(newRequest({ entitlementId: `${entitlementId}-other` }), auditBy('filed'));
    }

    expect((await store.listByEntitlement(entitlementId)).map((r) => r.id)).toEqual([...ids].reverse());
  });

  it('finds decided precedents behind many newer undecided requests', async () => {
    const entitlementId = `aws-audit-${Date.now()}`;
    const decided: string[] = [];
    for (const to of ['DENIED', 'APPROVED'] as const) {
      clock.advance(60);
      const pending = await move(
        await move((await store.create(newRequest({ entitlementId }), auditBy('filed'))).request, 'TRIAGING'),
        'PENDING',
      );
      decided.push((await move(pending, to)).id);
    }
    for (let i = 0; i < 120; i++) {
      clock.advance(1);
      await store.create(newRequest({ entitlementId }), auditBy('filed'));
    }

    const precedents = await store.listByEntitlement(entitlementId, {
      limit: 5,
      states: ['APPROVED', 'DENIED'],
    });
    expect(precedents.map((r) => r.id)).toEqual([...decided].reverse());
    expect(
      (await store.listByEntitlement(entitlementId, { limit: 5 })).every((r) => r.state === 'RECEIVED'),
    ).toBe(true);
  });

  it('lists requests in a state that fell due before a time, most overdue first', async () => {
    const base = clock.now().getTime();
    const at = (minutes: number) => new Date(base + minutes * 60_000).toISOString();
    const pendingDue = async (minutes: number) =>
      move(await requestIn('PENDING'), 'PENDING', { dueAt: at(minutes) });
    const late = await pendingDue(-30);
    const later = await pendingDue(-90);
    const notYet = await pendingDue(+30);
    const finished = await pendingDue(-120);
    await move(finished, 'DENIED');

    const due = (await store.listDue('PENDING', new Date(base))).map((r) => r.id);
    expect(due).toContain(later.id);
    expect(due).toContain(late.id);
    expect(due.indexOf(later.id)).toBeLessThan(due.indexOf(late.id));
    expect(due).not.toContain(notYet.id);
    expect(due).not.toContain(finished.id);
    expect(await store.listDue('GRANTED', new Date(base + 3_600_000))).toEqual([]);
  });
});

describe('delivery claims', () => {
  const claimed = { status: 'claimed', token: expect.any(String) };

  it('is claimed once per source and delivery id, carries a TTL, and is a duplicate once completed', async () => {
    const id = `delivery-${Date.now()}`;

    const claim = await store.claimDelivery('jira', id);
    expect(claim).toEqual(claimed);
    expect(await store.claimDelivery('jira', id)).toEqual({ status: 'in-progress' });
    expect(await store.claimDelivery('pagerduty', id)).toEqual(claimed);

    await store.completeDelivery('jira', id, claim.status === 'claimed' ? claim.token : '');
    expect(await store.claimDelivery('jira', id)).toEqual({ status: 'done' });
    const { Item } = await table.client.send(
      new GetCommand({ TableName: table.tableName, Key: keys.delivery('jira', id) }),
    );
    expect(Item?.[TABLE.ttlAttribute]).toBe(Math.floor(clock.now().getTime() / 1000) + 3 * 86_400);
  });

  it('frees a claim whose attempt died once its lease runs out', async () => {
    const id = `delivery-lease-${Date.now()}`;
    const first = await store.claimDelivery('jira', id);
    clock.advance(30);
    expect(await store.claimDelivery('jira', id)).toEqual({ status: 'in-progress' });
    clock.advance(31);
    const second = await store.claimDelivery('jira', id);
    expect(second).toEqual(claimed);

    // The dead attempt wakes up: it can neither complete nor release the claim it lost.
    await store.releaseDelivery('jira', id, first.status === 'claimed' ? first.token : '');
    await store.completeDelivery('jira', id, first.status === 'claimed' ? first.token : '');
    expect(await store.claimDelivery('jira', id)).toEqual({ status: 'in-progress' });
  });

  it('can be claimed again after its holder released it, and once the claim expired', async () => {
    const id = `delivery-released-${Date.now()}`;
    const shortLived = new DynamoRequestStore({
      client: table.client,
      tableName: table.tableName,
      clock,
      deliveryClaimSeconds: 120,
    });

    const claim = await shortLived.claimDelivery('pagerduty', id);
    await shortLived.releaseDelivery('pagerduty', id, claim.status === 'claimed' ? claim.token : '');
    const again = await shortLived.claimDelivery('pagerduty', id);
    expect(again).toEqual(claimed);
    await shortLived.completeDelivery('pagerduty', id, again.status === 'claimed' ? again.token : '');
    expect(await shortLived.claimDelivery('pagerduty', id)).toEqual({ status: 'done' });
    clock.advance(121);
    expect(await shortLived.claimDelivery('pagerduty', id)).toEqual(claimed);
  });
});
