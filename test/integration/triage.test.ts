// Intake and triage together in the sandbox: a ticket filed in Jira becomes a
// stored request whose audit trail holds the evidence bundle and risk signals,
// even when sources fail or are slow, then the model's advice (see advice.test.ts).

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EvidenceBundle } from '../../lambdas/core/context';
import type { AuditEvent } from '../../lambdas/core/model';
import { entitlementById } from '../../lambdas/core/catalog';
import { gatherContext } from '../../lambdas/core/triage/gather';
import { triageRequest } from '../../lambdas/core/triage/triage';
import { Env, readTriageConfig } from '../../lambdas/platform/env';
import { wireTriage } from '../../lambdas/wiring/triage';
import { Sandbox } from '../../sandbox/world';

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await Sandbox.start({ log: () => {} });
});

afterAll(() => sandbox.stop());

afterEach(() => {
  for (const service of Object.values(sandbox.services)) service.faults.clear();
});

/** Files a ticket and waits (polling the store) until triage recorded the context. */
async function triaged(ticket: Parameters<Sandbox['jira']['fileTicket']>[0]) {
  const { key } = sandbox.jira.fileTicket(ticket);
  await sandbox.jira.settled();
  for (let attempt = 0; attempt < 200; attempt++) {
    const request = await sandbox.store.getByJiraIssueKey(key);
    const trail = request ? await sandbox.store.listAuditEvents(request.id) : [];
    const gathered = trail.find((e) => e.from === 'TRIAGING' && e.to === 'TRIAGING');
    // Triage is done once the owners are paged.
    if (gathered && trail.some((e) => e.to === 'PENDING'))
      return {
        // Read again: the request read before the trail may predate the page.
        request: await sandbox.store.getByJiraIssueKey(key),
        gathered,
        ...(gathered.evidence as { sources: Record<string, string>; bundle: EvidenceBundle }),
      };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`triage did not record ${key}`);
}

const signalIds = (bundle: EvidenceBundle) => bundle.signals.map((s) => s.id);

describe('triage in the sandbox', () => {
  it('records a routine request with every source answering and no high signal', async () => {
    const { request, sources, bundle } = await triaged({
      reporter: 'dana',
      entitlement: 'okta-prod-readonly',
      duration: '4h',
      justification: 'INC-4411 checkout latency, need dashboards',
    });

    expect(request?.state).toBe('PENDING');
    expect(sources).toEqual({ okta: 'ok', iam: 'ok', slack: 'ok', pagerduty: 'ok', history: 'ok' });
    expect(bundle.evidence.length).toBeGreaterThan(5);
    expect(bundle.signals.filter((s) => s.severity === 'high' || s.severity === 'critical')).toEqual([]);
    expect(bundle.rendered).toContain('INC-4411');
    expect(bundle.policy.length).toBeGreaterThan(0);
  });

  it('flags a risky request: a new country, no MFA, a weak justification', async () => {
    const chloe = await triaged({
      reporter: 'chloe',
      entitlement: 'aws-logs-read',
      justification: 'need it',
    });
    const ivan = await triaged({
      reporter: 'ivan',
      entitlement: 'aws-prod-db-connect',
      justification: 'DATA-812 check',
    });

    expect(signalIds(chloe.bundle)).toEqual(
      expect.arrayContaining(['new-country-sign-in', 'weak-justification']),
    );
    expect(signalIds(ivan.bundle)).toEqual(expect.arrayContaining(['no-mfa', 'high-risk-entitlement']));
    const ids = new Set(chloe.bundle.evidence.map((e) => e.id));
    for (const signal of chloe.bundle.signals)
      for (const cited of signal.evidence) expect(ids).toContain(cited);
  });

  it('still records the bundle when Okta fails, Slack rate-limits and IAM is slower than its timeout', async () => {
    // Intake looks the requester up by email (the user list), so only triage's profile read fails.
    sandbox.okta.faults.set('GET /api/v1/users/:id', { errorRate: 1, status: 500 });
    sandbox.slack.faults.set('*', { errorRate: 1, status: 429 });
    sandbox.iam.faults.set('*', { delayMs: 3500 });

    const { sources, bundle } = await triaged({
      reporter: 'tomas',
      entitlement: 'okta-prod-readonly',
      justification: 'INC-7 on call',
    });

    expect(sources.okta).toMatch(/^unavailable: /);
    expect(sources.slack).toMatch(/^unavailable: rate limited/);
    expect(sources.iam).toMatch(/^unavailable: timeout/);
    expect(sources.pagerduty).toBe('ok');
    expect(bundle.evidence.some((e) => e.statement.toLowerCase().includes('unavailable'))).toBe(true);
  });

  it('does not gather twice when the queue delivers a message again', async () => {
    const { request } = await triaged({
      reporter: 'lena',
      entitlement: 'okta-prod-readonly',
      justification: 'SEC-4 audit',
    });
    const { deps, settings } = wireTriage(readTriageConfig(new Env(sandbox.loopgateEnvironment())), {
      log: () => {},
    });

    expect(await triageRequest(deps, settings, request?.id ?? '')).toEqual({
      kind: 'skipped',
      reason: 'request is PENDING',
    });
    const trail = await sandbox.store.listAuditEvents(request?.id ?? '');
    expect(trail.filter((e) => e.from === 'TRIAGING' && e.to === 'TRIAGING')).toHaveLength(2);
    expect((await sandbox.store.get(request?.id ?? ''))?.dueAt).toBeDefined();
  });

  it('runs without Slack when the stage switches it off: no token needed, and the page says Slack was not asked', async () => {
    const { LOOPGATE_SLACK_TOKEN: _token, ...environment } = sandbox.loopgateEnvironment();
    const config = readTriageConfig(new Env({ ...environment, LOOPGATE_SLACK_MODE: 'off' }));
    expect(config.slack).toEqual({ mode: 'off' });
    const { deps, settings } = wireTriage(config, { log: () => {} });
    expect(deps.chat).toBeUndefined();
    const { request } = await triaged({
      reporter: 'lena',
      entitlement: 'okta-prod-readonly',
      justification: 'SEC-5 audit',
    });
    if (!request) throw new Error('not triaged');
    const entitlement = entitlementById(deps.catalog, request.entitlementId);
    if (!entitlement) throw new Error('no entitlement');
    const context = await gatherContext(deps, request, entitlement, settings.gather);
    expect(context.chat).toEqual({
      status: 'unavailable',
      reason: 'Slack is switched off for this stage (slack.mode off)',
    });
    expect(context.directory.status).toBe('ok');
  });

  it('is visible through the control API', async () => {
    const { request } = await triaged({
      reporter: 'priya',
      entitlement: 'okta-prod-readonly',
      justification: 'INC-9',
    });
    const answer = await fetch(`${sandbox.control.url}/requests/${request?.jiraIssueKey}`);
    const body = (await answer.json()) as { request: { id: string }; audit: AuditEvent[] };
    expect(body.request.id).toBe(request?.id);
    expect(body.audit.map((e) => e.to)).toEqual(['RECEIVED', 'TRIAGING', 'TRIAGING', 'TRIAGING', 'PENDING']);
    expect((await fetch(`${sandbox.control.url}/requests/NOPE-1`)).status).toBe(404);
  });
});
