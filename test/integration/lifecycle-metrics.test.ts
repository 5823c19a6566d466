// The business metrics as CloudWatch reads them from the functions' logs
// (Embedded Metric Format), with the real functions in the sandbox and the log
// level at error: each lifecycle step counted once, by the function that wrote
// it, for the stage and per catalog entitlement; the three latencies from
// filing; and an entitlement a ticket names that the catalog does not have
// never becomes a dimension (it is free text).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  METRIC_NAMESPACE,
  REVOKE_HEARTBEAT_METRIC,
  STAGE_DIMENSION,
  SWEEPER_HEARTBEAT_METRIC,
} from '../../lambdas/platform/metrics';
import { ENTITLEMENT_DIMENSION } from '../../lambdas/platform/lifecycle-metrics';
import { Sandbox } from '../../sandbox/world';
import { flow, until } from '../support/sandbox-flow';

interface EmfLine {
  service: string;
  _aws: {
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [key: string]: unknown;
}

let sandbox: Sandbox;
const lines: Record<string, unknown>[] = [];
const { filed, note, inState, passExpiry, sweep } = flow(() => sandbox);

beforeAll(async () => {
  sandbox = await Sandbox.start({
    log: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
    environment: { LOG_LEVEL: 'error' },
  });
});

afterAll(() => sandbox?.stop());

/** The metric lines that carry `name`, from the lines written since `from`. */
const metric = (name: string, from = 0) =>
  (lines.slice(from).filter((l) => '_aws' in l) as EmfLine[]).filter((l) =>
    l._aws.CloudWatchMetrics.some((d) => d.Metrics.some((m) => m.Name === name)),
  );

describe('lifecycle metrics, with the log level at error', () => {
  it('counts filed, paged, approved, granted and revoked once each, from the function that wrote the step, per entitlement', async () => {
    const start = lines.length;
    const request = await filed('chloe', 'okta-prod-readonly', { duration: '2h' });
    await note(request, 'priya', 'approve');
    const granted = await inState(request.id, 'GRANTED');
    await passExpiry(granted);
    await inState(request.id, 'REVOKED');

    const expected = {
      RequestsFiled: 'jira-webhook',
      RequestsPaged: 'triage',
      RequestsApproved: 'decide',
      RequestsGranted: 'provision',
      RequestsRevoked: 'revoke',
    };
    for (const [name, service] of Object.entries(expected)) {
      const found = metric(name, start);
      expect(found, name).toHaveLength(1);
      const [line] = found as [EmfLine];
      expect(line).toMatchObject({
        service,
        [name]: 1,
        [STAGE_DIMENSION]: 'sandbox',
        [ENTITLEMENT_DIMENSION]: 'okta-prod-readonly',
      });
      // No level: Lambda reads it as INFO, which the functions' log filter lets through.
      expect(line).not.toHaveProperty('level');
      expect(line._aws.CloudWatchMetrics).toEqual([
        {
          Namespace: METRIC_NAMESPACE,
          // The stage's total (what alarms and the dashboard read) and the per-entitlement series.
          Dimensions: [[STAGE_DIMENSION], [STAGE_DIMENSION, ENTITLEMENT_DIMENSION]],
          Metrics: [{ Name: name, Unit: 'Count' }],
        },
      ]);
    }
    for (const name of ['RequestsDenied', 'RequestsFailed', 'RequestsRejected', 'RequestsCancelled']) {
      expect(metric(name, start), name).toEqual([]);
    }
  });

  it('measures time to page, to decision and to grant from filing, in milliseconds', async () => {
    const start = lines.length;
    const request = await filed('chloe', 'okta-prod-readonly', { duration: '1h' });
    sandbox.clock.advance(10 * 60_000);
    await note(request, 'priya', 'approve');
    await inState(request.id, 'GRANTED');

    const value = (name: string) => {
      const found = metric(name, start);
      expect(found, name).toHaveLength(1);
      const [line] = found as [EmfLine];
      expect(line._aws.CloudWatchMetrics[0]?.Metrics).toEqual([{ Name: name, Unit: 'Milliseconds' }]);
      expect(line[ENTITLEMENT_DIMENSION]).toBe('okta-prod-readonly');
      return line[name] as number;
    };
    const page = value('TimeToPage');
    const decision = value('TimeToDecision');
    const grant = value('TimeToGrant');
    // The approval came ten minutes of sandbox time after the page.
    expect(page).toBeGreaterThanOrEqual(0);
    expect(decision - page).toBeGreaterThanOrEqual(10 * 60_000);
    expect(grant).toBeGreaterThanOrEqual(decision);
  });

  it('counts a denial', async () => {
    const start = lines.length;
    const request = await filed('chloe', 'okta-prod-readonly', { duration: '1h' });
    await note(request, 'priya', 'deny not without an incident');
    await inState(request.id, 'DENIED');
    expect(metric('RequestsDenied', start)).toEqual([
      expect.objectContaining({ service: 'decide', [ENTITLEMENT_DIMENSION]: 'okta-prod-readonly' }),
    ]);
    expect(metric('TimeToDecision', start)).toHaveLength(1);
    expect(metric('RequestsGranted', start)).toEqual([]);
  });

  it('never makes a dimension of an entitlement the catalog does not have: counted for the stage only', async () => {
    const start = lines.length;
    const { key } = sandbox.jira.fileTicket({
      reporter: 'tomas',
      entitlement: 'prod-god-mode please',
      justification: 'INC-1',
    });
    await sandbox.jira.settled();
    await until(`${key} to be rejected`, async () => {
      const r = await sandbox.store.getByJiraIssueKey(key);
      return r?.state === 'REJECTED' ? r : undefined;
    });
    for (const name of ['RequestsFiled', 'RequestsRejected']) {
      const found = metric(name, start);
      expect(found, name).toHaveLength(1);
      const [line] = found as [EmfLine];
      expect(line).not.toHaveProperty(ENTITLEMENT_DIMENSION);
      expect(line._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([[STAGE_DIMENSION]]);
    }
    expect(JSON.stringify(lines.slice(start).filter((l) => '_aws' in l))).not.toContain('god-mode');
  });
});

describe('heartbeats, with the log level at error', () => {
  it('the sweeper beats once per sweep, for its stage (its alarm breaches when none arrives)', async () => {
    const start = lines.length;
    await sweep();
    await sweep();
    const beats = metric(SWEEPER_HEARTBEAT_METRIC, start);
    expect(beats.map((l) => [l.service, l[SWEEPER_HEARTBEAT_METRIC], l[STAGE_DIMENSION]])).toEqual([
      ['sweeper', 1, 'sandbox'],
      ['sweeper', 1, 'sandbox'],
    ]);
  });

  it('revoke beats once per invocation, from its schedule and from its queue', async () => {
    const start = lines.length;
    const atExpiry = await filed('chloe', 'okta-prod-readonly', { duration: '1h' });
    await note(atExpiry, 'priya', 'approve');
    await passExpiry(await inState(atExpiry.id, 'GRANTED'));
    await inState(atExpiry.id, 'REVOKED');
    // Every schedule due by then runs (an earlier test's grant too): one beat per invocation.
    const scheduled = metric(REVOKE_HEARTBEAT_METRIC, start);
    expect(scheduled.length).toBeGreaterThanOrEqual(1);
    for (const beat of scheduled) {
      expect(beat).toMatchObject({
        service: 'revoke',
        [REVOKE_HEARTBEAT_METRIC]: 1,
        [STAGE_DIMENSION]: 'sandbox',
      });
    }

    const early = await filed('chloe', 'okta-prod-readonly', { duration: '1h' });
    await note(early, 'priya', 'approve');
    await inState(early.id, 'GRANTED');
    const before = metric(REVOKE_HEARTBEAT_METRIC, start).length;
    await note(early, 'priya', 'revoke done with it');
    await inState(early.id, 'REVOKED');
    await sandbox.settled();
    expect(metric(REVOKE_HEARTBEAT_METRIC, start).length).toBe(before + 1);
  });
});
