// The follow-up outbox on DynamoDB Local: what people are told about a step is
// written in the same transaction as the step (or not at all), delivered once,
// retried with backoff while a vendor is down, and kept in order per request
// and vendor, so a ticket never reads "granted" before "approved".

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRequestStore } from '../../lambdas/connectors/dynamodb/request-store';
import { NotFoundError, UpstreamError } from '../../lambdas/core/errors';
import { deliverFollowUps, FollowUps, MAX_FOLLOW_UP_ATTEMPTS } from '../../lambdas/core/follow-up';
import { TransitionConflictError } from '../../lambdas/core/lifecycle';
import type { AccessRequest } from '../../lambdas/core/model';
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

/** PagerDuty and Jira that record what they were told, and fail while told to. */
function vendors() {
  const told: string[] = [];
  const down = { pagerduty: 0, jira: 0 };
  const failIf = (vendor: 'pagerduty' | 'jira') => {
    if (down[vendor] > 0) {
      down[vendor] -= 1;
      throw new UpstreamError(vendor, 'unavailable', 'answered 503');
    }
  };
  return {
    told,
    down,
    deps: {
      outbox: store,
      clock,
      pager: {
        addNote: async (incidentId: string, content: string) => {
          failIf('pagerduty');
          told.push(`note ${incidentId}: ${content}`);
        },
        resolve: async (incidentId: string) => {
          failIf('pagerduty');
          told.push(`resolve ${incidentId}`);
        },
      },
      tracker: {
        comment: async (issueKey: string, text: string) => {
          failIf('jira');
          told.push(`comment ${issueKey}: ${text}`);
        },
        moveTo: async (issueKey: string, status: string) => {
          failIf('jira');
          if (status === 'Nowhere') return 'no-such-transition' as const;
          told.push(`move ${issueKey}: ${status}`);
          return 'moved' as const;
        },
      },
    },
  };
}

async function pending(): Promise<AccessRequest> {
  const { request } = await store.create(newRequest(), auditBy('filed'));
  return store.transition({
    requestId: request.id,
    from: 'RECEIVED',
    to: 'TRIAGING',
    expectedVersion: request.version,
    audit: auditBy('triage'),
  });
}

function step(request: AccessRequest, followUps: FollowUps) {
  return store.recordEvent({
    requestId: request.id,
    state: request.state,
    expectedVersion: request.version,
    audit: auditBy('a step'),
    followUps: followUps.items,
  });
}

describe('the outbox in the store', () => {
  it('writes a step’s follow-ups with it, in order, and none when the step loses a race', async () => {
    const request = await pending();
    const tell = new FollowUps().note('P1', 'first').comment(request.jiraIssueKey, 'second');
    await step(request, tell);
    expect((await store.followUpsOf(request.id)).map((f) => f.followUp)).toEqual(tell.items);

    // The same version again: the step conflicts, and its follow-ups are not written either.
    await expect(step(request, new FollowUps().note('P1', 'lost race'))).rejects.toBeInstanceOf(
      TransitionConflictError,
    );
    expect(await store.followUpsOf(request.id)).toHaveLength(2);
  });

  it('lets one deliverer claim a follow-up; the other finds it taken', async () => {
    const request = await pending();
    await step(request, new FollowUps().note('P2', 'once'));
    const [item] = await store.followUpsOf(request.id);
    if (!item) throw new Error('no follow-up written');
    const until = new Date(clock.now().getTime() + 60_000);
    const claims = await Promise.all([store.claimFollowUp(item, until), store.claimFollowUp(item, until)]);
    expect(claims.filter((c) => c !== undefined)).toHaveLength(1);
    expect(claims.find((c) => c)?.attempts).toBe(1);
  });

  it('lists only what is due, and forgets what is finished', async () => {
    const request = await pending();
    await step(request, new FollowUps().comment(request.jiraIssueKey, 'due now'));
    const [item] = await store.followUpsOf(request.id);
    if (!item) throw new Error('no follow-up written');
    const due = await store.dueFollowUps(new Date(clock.now().getTime() + 1), 1000);
    expect(due.map((f) => f.id)).toContain(item.id);

    await store.retryFollowUp(item, new Date(clock.now().getTime() + 3_600_000), 'jira answered 503');
    const later = await store.dueFollowUps(new Date(clock.now().getTime() + 1), 1000);
    expect(later.map((f) => f.id)).not.toContain(item.id);
    expect((await store.followUpsOf(request.id))[0]?.lastError).toBe('jira answered 503');

    await store.finishFollowUp(item);
    expect(await store.followUpsOf(request.id)).toEqual([]);
  });
});

describe('delivering follow-ups', () => {
  it('delivers each once though two deliverers race, in the order written per vendor, and leaves nothing behind', async () => {
    const { deps, told } = vendors();
    const request = await pending();
    await step(
      request,
      new FollowUps()
        .note('P3', 'Approved')
        .comment(request.jiraIssueKey, 'Approved')
        .moveTicket(request.jiraIssueKey, 'Approved')
        .resolve('P3'),
    );
    const outbox = await store.followUpsOf(request.id);
    expect(await Promise.all([deliverFollowUps(deps, outbox), deliverFollowUps(deps, outbox)])).toEqual([
      [],
      [],
    ]);
    // In order per vendor (PagerDuty and Jira are told independently), each once.
    expect(told.filter((t) => !t.includes(request.jiraIssueKey))).toEqual([
      'note P3: Approved',
      'resolve P3',
    ]);
    expect(told.filter((t) => t.includes(request.jiraIssueKey))).toEqual([
      `comment ${request.jiraIssueKey}: Approved`,
      `move ${request.jiraIssueKey}: Approved`,
    ]);
    expect(await store.followUpsOf(request.id)).toEqual([]);
  });

  it('holds a request’s later Jira updates behind one that failed, retries with backoff, and delivers them in order once Jira is back', async () => {
    const { deps, told, down } = vendors();
    const request = await pending();
    const approved = await step(
      request,
      new FollowUps().comment(request.jiraIssueKey, 'Approved').note('P4', 'Approved'),
    );
    down.jira = 1;
    const problems = await deliverFollowUps(deps, await store.followUpsOf(request.id));
    expect(problems).toEqual([
      {
        requestId: request.id,
        problem: expect.stringMatching(
          /Jira comment on .* \(attempt 1\) failed, retried in 1 min: jira: answered 503/,
        ),
      },
    ]);
    // PagerDuty was up: its note did not wait for Jira.
    expect(told).toEqual(['note P4: Approved']);

    await step(approved, new FollowUps().comment(request.jiraIssueKey, 'Granted'));
    await deliverFollowUps(deps, await store.followUpsOf(request.id));
    expect(told).toEqual(['note P4: Approved']);

    clock.advance(61);
    expect(await deliverFollowUps(deps, await store.followUpsOf(request.id))).toEqual([]);
    expect(told).toEqual([
      'note P4: Approved',
      `comment ${request.jiraIssueKey}: Approved`,
      `comment ${request.jiraIssueKey}: Granted`,
    ]);
  });

  it('waits longer after each failure, and gives up after the last attempt, saying so', async () => {
    const { deps, down } = vendors();
    const request = await pending();
    await step(request, new FollowUps().comment(request.jiraIssueKey, 'never arrives'));
    down.jira = Number.POSITIVE_INFINITY;
    const waits: number[] = [];
    let last: Awaited<ReturnType<typeof deliverFollowUps>> = [];
    for (let attempt = 1; attempt <= MAX_FOLLOW_UP_ATTEMPTS; attempt++) {
      last = await deliverFollowUps(deps, await store.followUpsOf(request.id));
      const [item] = await store.followUpsOf(request.id);
      if (!item) break;
      waits.push(Date.parse(item.dueAt) - clock.now().getTime());
      clock.advance(Math.ceil((Date.parse(item.dueAt) - clock.now().getTime()) / 1000) + 1);
    }
    expect(waits.slice(0, 4)).toEqual([60_000, 120_000, 240_000, 480_000]);
    expect(Math.max(...waits)).toBe(3_600_000);
    expect(last[0]?.problem).toMatch(/failed for good/);
    expect(await store.followUpsOf(request.id)).toEqual([]);
  });

  it('does not retry what cannot work: a workflow without the status, an incident that is gone', async () => {
    const { deps, told } = vendors();
    deps.pager.addNote = async () => {
      throw new NotFoundError('incident P5 does not exist');
    };
    const request = await pending();
    await step(
      request,
      new FollowUps()
        .moveTicket(request.jiraIssueKey, 'Nowhere')
        .note('P5', 'gone')
        .comment(request.jiraIssueKey, 'after'),
    );
    const problems = await deliverFollowUps(deps, await store.followUpsOf(request.id));
    expect(problems.map((p) => p.problem)).toEqual([
      expect.stringMatching(/moving .* to Nowhere .* failed for good: the workflow has no transition/),
      expect.stringMatching(/note on incident P5 .* failed for good: incident P5 does not exist/),
    ]);
    expect(told).toEqual([`comment ${request.jiraIssueKey}: after`]);
    expect(await store.followUpsOf(request.id)).toEqual([]);
  });
});
