// The owners' digest over DynamoDB Local and the Slack stand-in (chat.postMessage
// through @slack/web-api): one post per owner channel and period, none when
// there is nothing to say, nothing posted twice when the run is retried, and a
// channel Slack refuses does not stop the others (its retry posts it once).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRequestStore } from '../../lambdas/connectors/dynamodb/request-store';
import { createSlackClient } from '../../lambdas/connectors/slack/client';
import { SlackPoster } from '../../lambdas/connectors/slack/poster';
import type { Catalog } from '../../lambdas/core/catalog';
import { periodOf, sendDigests } from '../../lambdas/core/digest';
import type { AccessRequest, RequestState } from '../../lambdas/core/model';
import { loadCatalogFile } from '../../lambdas/platform/catalog-file';
import { SandboxClock } from '../../sandbox/clock';
import { DEFAULT_SCENARIO_FILE, loadScenarioFile } from '../../sandbox/scenario/load';
import { DEFAULT_BOT_SCOPES, SlackStandIn } from '../../sandbox/slack/stand-in';
import { TestClock } from '../support/clock';
import { createTestTable, type TestTable } from '../support/dynamodb';
import { auditBy, newRequest } from '../support/requests';

const BOT = 'xoxb-1111-2222-digest';
// Wednesday of the week the digest covers; the digest is due on the Monday after.
const WEDNESDAY = '2026-11-25T10:00:00.000Z';
const MONDAY_AFTER = '2026-11-30T08:00:00.000Z';

let table: TestTable;
let store: DynamoRequestStore;
let slack: SlackStandIn;
let clock: TestClock;

/** The shipped catalog with digests: SRE's two entitlements share #sre; aws-logs-read goes to #security. */
function catalogWithDigests(): Catalog {
  const catalog = structuredClone(loadCatalogFile('config/catalog.yaml'));
  for (const e of catalog.entitlements) {
    if (e.id === 'okta-prod-readonly' || e.id === 'okta-incident-responder')
      e.digest = { channel: 'C0SRE00001', period: 'weekly' };
    if (e.id === 'aws-logs-read') e.digest = { channel: 'C0SEC00001', period: 'weekly' };
    if (e.id === 'aws-billing-read') e.digest = { channel: '#data-eng', period: 'weekly' };
  }
  return catalog;
}

async function requestIn(entitlementId: string, to: RequestState, email: string, personId: string) {
  let { request } = await store.create(
    newRequest({
      entitlementId,
      requester: { jiraAccountId: `j-${personId}`, directoryUserId: personId, email },
    }),
    auditBy('filed'),
  );
  const step = async (next: RequestState, changes: Partial<AccessRequest> = {}) => {
    request = await store.transition({
      requestId: request.id,
      from: request.state,
      to: next,
      expectedVersion: request.version,
      audit: auditBy(`to ${next}`),
      changes,
    });
  };
  await step('TRIAGING');
  await step('PENDING');
  if (to === 'DENIED') {
    await step('DENIED');
    return request;
  }
  const grantedAt = clock.now();
  await step('APPROVED', {
    decisions: [
      { outcome: 'approve', actor: { kind: 'rule', id: 'on-call' }, decidedAt: grantedAt.toISOString() },
    ],
  });
  await step('GRANTED', {
    grant: {
      action: 'okta-group',
      principal: personId,
      target: '00g1prodreadonly0001',
      grantedAt: grantedAt.toISOString(),
      expiresAt: new Date(grantedAt.getTime() + 4 * 3_600_000).toISOString(),
    },
  });
  if (to === 'REVOKED') await step('REVOKED');
  return request;
}

beforeAll(async () => {
  table = await createTestTable();
  clock = new TestClock(WEDNESDAY);
  store = new DynamoRequestStore({ client: table.client, tableName: table.tableName, clock });
  const slackClock = new SandboxClock({ start: new Date(WEDNESDAY), frozen: true });
  slack = new SlackStandIn({
    scenario: loadScenarioFile(DEFAULT_SCENARIO_FILE, slackClock.now()),
    clock: slackClock,
    botTokens: [BOT],
    userTokens: [],
    scopes: { [BOT]: [...DEFAULT_BOT_SCOPES, 'chat:write'] },
    // The bot was never added to #data-eng.
    botChannels: ['C0SRE00001', 'C0SEC00001'],
  });
  await slack.start();

  // During the week: Priya twice on okta-prod-readonly (revoked, then still held), Dana once on
  // okta-incident-responder, one denied aws-logs-read. Nothing at all for aws-billing-read.
  await requestIn('okta-prod-readonly', 'REVOKED', 'priya.nair@example.com', '00uPRIYA');
  clock.advance(86_400);
  await requestIn('okta-prod-readonly', 'GRANTED', 'priya.nair@example.com', '00uPRIYA');
  await requestIn('okta-incident-responder', 'REVOKED', 'dana.reyes@example.com', '00uDANA');
  await requestIn('aws-logs-read', 'DENIED', 'chloe.martin@example.com', '00uCHLOE');
});

afterAll(async () => {
  await slack?.stop();
  await table?.drop();
});

const deps = () => ({
  store,
  catalog: catalogWithDigests(),
  chat: new SlackPoster(
    createSlackClient({ token: BOT, slackApiUrl: `${slack.url}/api/`, timeoutMs: 5000, retries: 0 }),
  ),
  clock,
});

describe('owner digests', () => {
  it('is not due during the week it covers', async () => {
    expect(await sendDigests(deps())).toEqual({ posted: [], empty: [], already: [], errors: [] });
    expect(slack.posted).toEqual([]);
  });

  it('posts one digest per owner channel on the Monday after, none where there is nothing to say', async () => {
    clock.advance((Date.parse(MONDAY_AFTER) - clock.now().getTime()) / 1000);
    expect(periodOf(clock.now(), 'weekly').key).toBe('weekly:2026-11-30');
    const report = await sendDigests(deps());
    expect(report.posted.sort()).toEqual(['C0SEC00001', 'C0SRE00001']);
    // aws-billing-read had nothing: no post to #data-eng (which the bot could not post to anyway).
    expect(report.empty).toEqual(['#data-eng']);
    expect(report.errors).toEqual([]);
    expect(slack.posted.map((m) => m.channel).sort()).toEqual(['C0SEC00001', 'C0SRE00001']);

    const sre = slack.posted.find((m) => m.channel === 'C0SRE00001')?.text ?? '';
    expect(sre).toContain('2026-11-23 to 2026-11-29');
    expect(sre).toContain('loopgate removes nothing because of it');
    expect(sre).toContain('*okta-prod-readonly*');
    expect(sre).toMatch(/Held now through loopgate: priya\.nair@example\.com until 2026-11-26 14:00 UTC/);
    expect(sre).toContain('priya.nair@example.com 2× for 8h in all');
    expect(sre).toContain('Worth a second look: priya.nair@example.com');
    expect(sre).toContain('*okta-incident-responder*');
    const security = slack.posted.find((m) => m.channel === 'C0SEC00001')?.text ?? '';
    expect(security).toContain('Denied this period: 1');
    expect(security).not.toContain('okta-prod-readonly');
  });

  it('posts nothing twice when the run is retried', async () => {
    const before = slack.posted.length;
    clock.advance(300);
    const again = await sendDigests(deps());
    expect(again.posted).toEqual([]);
    expect(again.already.sort()).toEqual(['C0SEC00001', 'C0SRE00001']);
    expect(slack.posted).toHaveLength(before);
  });

  it('a channel Slack refuses does not stop the others, and its retry posts it once', async () => {
    // The next day: daily digests for aws-billing-read into #data-eng, where the bot is not.
    const catalog = catalogWithDigests();
    const billing = catalog.entitlements.find((e) => e.id === 'aws-billing-read');
    if (billing) billing.digest = { channel: '#data-eng', period: 'daily' };
    await requestIn('aws-billing-read', 'GRANTED', 'rob.chen@example.com', '00uROB');
    clock.advance(86_400);
    const refused = await sendDigests({ ...deps(), catalog });
    expect(refused.errors).toEqual([
      { channel: '#data-eng', error: expect.stringContaining('not_in_channel') },
    ]);
    const posted = slack.posted.length;
    // Once the bot is added (the stand-in's channel list), the retry posts it, and only once.
    const added = new SlackStandIn({
      scenario: loadScenarioFile(DEFAULT_SCENARIO_FILE, clock.now()),
      clock: new SandboxClock({ start: clock.now(), frozen: true }),
      botTokens: [BOT],
      userTokens: [],
      scopes: { [BOT]: [...DEFAULT_BOT_SCOPES, 'chat:write'] },
    });
    await added.start();
    try {
      const chat = new SlackPoster(
        createSlackClient({ token: BOT, slackApiUrl: `${added.url}/api/`, timeoutMs: 5000, retries: 0 }),
      );
      expect((await sendDigests({ ...deps(), catalog, chat })).posted).toEqual(['#data-eng']);
      expect((await sendDigests({ ...deps(), catalog, chat })).posted).toEqual([]);
      expect(added.posted.map((m) => m.channel)).toEqual(['C0DATA0001']);
      expect(slack.posted).toHaveLength(posted);
    } finally {
      await added.stop();
    }
  });
});
