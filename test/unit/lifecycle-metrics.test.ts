// What each lifecycle step counts and measures, and how a metric line carries
// the Entitlement dimension: only for an id the catalog has.

import { describe, expect, it } from 'vitest';
import { TRANSITIONS } from '../../lambdas/core/lifecycle';
import type { AccessRequest, RequestState } from '../../lambdas/core/model';
import {
  ENTITLEMENT_DIMENSION,
  lifecycleMetrics,
  lifecycleMetricsOf,
} from '../../lambdas/platform/lifecycle-metrics';
import { MetricsWriter, STAGE_DIMENSION } from '../../lambdas/platform/metrics';

const FILED = '2026-12-07T10:00:00.000Z';
const request = (state: RequestState, updatedAt = '2026-12-07T10:05:00.000Z') =>
  ({ id: 'r1', entitlementId: 'okta-prod-readonly', state, createdAt: FILED, updatedAt }) as AccessRequest;

describe('lifecycleMetricsOf', () => {
  it('counts each legal transition into another state exactly as the table says', () => {
    const counted = TRANSITIONS.filter((t) => t.from !== t.to).map((t) => [
      `${t.from}→${t.to}`,
      lifecycleMetricsOf({ request: request(t.to), from: t.from }).count,
    ]);
    expect(Object.fromEntries(counted)).toEqual({
      'RECEIVED→TRIAGING': undefined,
      'RECEIVED→REJECTED': 'RequestsRejected',
      'RECEIVED→CANCELLED': 'RequestsCancelled',
      'TRIAGING→PENDING': 'RequestsPaged',
      'TRIAGING→APPROVED': 'RequestsApproved',
      'TRIAGING→GRANTED': 'RequestsGranted',
      'TRIAGING→REJECTED': 'RequestsRejected',
      'TRIAGING→CANCELLED': 'RequestsCancelled',
      'PENDING→APPROVED': 'RequestsApproved',
      'PENDING→DENIED': 'RequestsDenied',
      'PENDING→CANCELLED': 'RequestsCancelled',
      'APPROVED→GRANTED': 'RequestsGranted',
      'APPROVED→FAILED': 'RequestsFailed',
      // A shift-bound grant whose shift ended before it was made.
      'APPROVED→CANCELLED': 'RequestsCancelled',
      'GRANTED→REVOKED': 'RequestsRevoked',
      'GRANTED→FAILED': 'RequestsFailed',
      'FAILED→REVOKED': 'RequestsRevoked',
    });
  });

  it('counts nothing for a step within a state: a vote, an extension, context gathered', () => {
    for (const state of ['TRIAGING', 'PENDING', 'GRANTED'] as const) {
      expect(lifecycleMetricsOf({ request: request(state), from: state })).toEqual({});
    }
  });

  it('counts a request opened as filed, and measures the latencies from filing', () => {
    expect(lifecycleMetricsOf({ request: request('RECEIVED') })).toEqual({ count: 'RequestsFiled' });
    expect(lifecycleMetricsOf({ request: request('PENDING'), from: 'TRIAGING' }).latency).toEqual({
      name: 'TimeToPage',
      ms: 300_000,
    });
    expect(lifecycleMetricsOf({ request: request('DENIED'), from: 'PENDING' }).latency?.name).toBe(
      'TimeToDecision',
    );
    expect(lifecycleMetricsOf({ request: request('GRANTED'), from: 'TRIAGING' }).latency?.name).toBe(
      'TimeToGrant',
    );
    expect(lifecycleMetricsOf({ request: request('REVOKED'), from: 'GRANTED' }).latency).toBeUndefined();
  });
});

describe('lifecycleMetrics', () => {
  const written = (entitlementId: string) => {
    const lines: Record<string, unknown>[] = [];
    const metrics = new MetricsWriter({
      stage: 'prod',
      service: 'decide',
      write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
    });
    lifecycleMetrics(
      metrics,
      new Set(['okta-prod-readonly']),
    )({
      request: { ...request('APPROVED'), entitlementId },
      from: 'PENDING',
    });
    return lines;
  };

  it('writes the count and the latency for the stage and per catalog entitlement', () => {
    const [count, latency] = written('okta-prod-readonly');
    expect(count).toMatchObject({ RequestsApproved: 1, [ENTITLEMENT_DIMENSION]: 'okta-prod-readonly' });
    expect(count?._aws).toMatchObject({
      CloudWatchMetrics: [
        {
          Dimensions: [[STAGE_DIMENSION], [STAGE_DIMENSION, ENTITLEMENT_DIMENSION]],
          Metrics: [{ Name: 'RequestsApproved', Unit: 'Count' }],
        },
      ],
    });
    expect(latency).toMatchObject({ TimeToDecision: 300_000, [STAGE_DIMENSION]: 'prod' });
    expect(latency?._aws).toMatchObject({
      CloudWatchMetrics: [{ Metrics: [{ Name: 'TimeToDecision', Unit: 'Milliseconds' }] }],
    });
  });

  it('leaves an entitlement the catalog does not have out of the dimensions and the line', () => {
    const lines = written('admin for everyone');
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      expect(JSON.stringify(line)).not.toContain('admin for everyone');
      expect(line._aws).toMatchObject({ CloudWatchMetrics: [{ Dimensions: [[STAGE_DIMENSION]] }] });
    }
  });
});
