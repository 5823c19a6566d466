// Step-up, end to end in the sandbox: an entitlement whose catalog entry says
// `stepUp: { approvers: true }` counts an approval or an extension only once
// its author accepts an Okta Verify push. PagerDuty records a note written with
// a REST API key `From:` a person exactly as one the person wrote, so that is
// the attack here: a key holder writes "approve" in Sam's name; Sam's phone
// gets a push he did not expect and he rejects it.
// People's phones (the scenario's `okta.push`): Ana accepts, Sam rejects, Lena
// never answers, Kenji has no Okta Verify at all; everyone else accepts.
// With `stepUp: { requester: true }` the requester's own push comes first:
// a ticket filed with someone's Jira token in their name pages and grants nothing.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { AccessRequest } from '../../lambdas/core/model';
import { PUSH_POLL_SECONDS } from '../../lambdas/core/push';
import { DEFAULT_SCENARIO_FILE } from '../../sandbox/scenario/load';
import { Sandbox } from '../../sandbox/world';
import { flow, until } from '../support/sandbox-flow';

const ENTITLEMENT = 'okta-prod-readonly';
const GROUP = '00g1prodreadonly0001';

let folder: string;
let sandbox: Sandbox;
const steps = flow(() => sandbox);

function files(): { scenarioFile: string; catalogFile: string } {
  const scenario = parse(readFileSync(DEFAULT_SCENARIO_FILE, 'utf8')) as {
    people: { id: string; okta?: Record<string, unknown> }[];
  };
  const phones: Record<string, Record<string, unknown>> = {
    ana: { push: 'accept', factors: ['push'] },
    sam: { push: 'reject', factors: ['push', 'webauthn'] },
    lena: { push: 'ignore', factors: ['push'] },
    kenji: { factors: ['token:software:totp'] },
  };
  for (const person of scenario.people) {
    if (phones[person.id]) person.okta = { ...person.okta, ...phones[person.id] };
  }
  const catalog = parse(readFileSync('config/catalog.yaml', 'utf8')) as {
    entitlements: Record<string, unknown>[];
  };
  const entry = catalog.entitlements.find((e) => e.id === ENTITLEMENT);
  if (!entry) throw new Error(`no ${ENTITLEMENT} in the catalog`);
  Object.assign(entry, {
    approvers: {
      emails: [
        'ana.lima@example.com',
        'sam.okafor@example.com',
        'lena.novak@example.com',
        'kenji.watanabe@example.com',
      ],
    },
    stepUp: { approvers: true },
  });
  const breakGlass = catalog.entitlements.find((e) => e.id === 'aws-prod-db-connect');
  if (!breakGlass) throw new Error('no aws-prod-db-connect in the catalog');
  breakGlass.stepUp = { approvers: true };
  // The requester proves it is them: audit-only (nobody else looks) and approval alike.
  for (const id of ['aws-billing-read', 'okta-prod-admin']) {
    const proven = catalog.entitlements.find((e) => e.id === id);
    if (!proven) throw new Error(`no ${id} in the catalog`);
    proven.stepUp = { requester: true };
  }
  const scenarioFile = join(folder, 'scenario.yaml');
  const catalogFile = join(folder, 'catalog.yaml');
  writeFileSync(scenarioFile, stringify(scenario));
  writeFileSync(catalogFile, stringify(catalog));
  return { scenarioFile, catalogFile };
}

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'loopgate-step-up-'));
  const { scenarioFile, catalogFile } = files();
  sandbox = await Sandbox.start({
    scenarioFile,
    log: () => {},
    environment: { LOOPGATE_CATALOG_FILE: catalogFile },
  });
});

afterAll(async () => {
  await sandbox?.stop();
  rmSync(folder, { recursive: true, force: true });
});

/** Lets the phones answer (5 s in the stand-in) and the decide function look again. */
async function pushAnswered(seconds = PUSH_POLL_SECONDS) {
  sandbox.clock.advance(seconds * 1000);
  await sandbox.settled();
}

const stepUpTrail = async (request: AccessRequest) =>
  (await sandbox.store.listAuditEvents(request.id)).filter((e) => e.evidence?.stepUp !== undefined);

/** What a holder of any PagerDuty REST API key can do: a note `From:` someone else. */
async function noteWithApiKey(incidentId: string, from: string, content: string) {
  const response = await fetch(`${sandbox.pagerduty.url}/incidents/${incidentId}/notes`, {
    method: 'POST',
    headers: {
      authorization: `Token token=${sandbox.credentials.pagerduty.token}`,
      accept: 'application/vnd.pagerduty+json;version=2',
      'content-type': 'application/json',
      from,
    },
    body: JSON.stringify({ note: { content } }),
  });
  expect(response.ok, await response.clone().text()).toBe(true);
  await sandbox.settled();
}

describe('an approval that needs an Okta Verify push', () => {
  it('counts once the approver accepts it; the incident says a push is outstanding meanwhile', async () => {
    const request = await steps.filed('dana', ENTITLEMENT);
    expect(sandbox.pagerduty.incident(request.incidentId ?? '')?.details).toContain(
      'counts only once you accept the Okta Verify push',
    );
    await steps.note(request, 'ana', 'approve');

    const waiting = await sandbox.store.get(request.id);
    expect(waiting?.state).toBe('PENDING');
    expect(waiting?.decisions).toEqual([]);
    expect(steps.lastNote(request.incidentId ?? '')).toContain('Okta Verify push sent to');

    await pushAnswered();
    const granted = await steps.inState(request.id, 'GRANTED');
    expect(granted.decisions).toEqual([
      expect.objectContaining({
        outcome: 'approve',
        actor: expect.objectContaining({ id: 'ana.lima@example.com' }),
      }),
    ]);
    expect((await stepUpTrail(request)).map((e) => e.evidence?.stepUp)).toEqual(['sent', 'accepted']);
    expect(await steps.oktaMembers(GROUP)).toContain('dana.reyes@example.com');
  });

  it('does not count a note written with an API key in Sam’s name: Sam rejects the push, and that is a security event', async () => {
    const request = await steps.filed('dana', ENTITLEMENT);
    await noteWithApiKey(request.incidentId ?? '', 'sam.okafor@example.com', 'approve');
    await pushAnswered();

    const stored = await sandbox.store.get(request.id);
    expect(stored?.state).toBe('PENDING');
    expect(stored?.decisions).toEqual([]);
    const trail = await stepUpTrail(request);
    expect(trail.map((e) => e.evidence?.stepUp)).toEqual(['sent', 'rejected']);
    expect(trail[1]?.evidence?.securityEvent).toBe('step-up-rejected');
    expect(steps.lastNote(request.incidentId ?? '')).toContain('rejected the Okta Verify push');
    // Redelivering the same note does not push again.
    await pushAnswered(60);
    expect(await stepUpTrail(request)).toHaveLength(2);
  });

  it('does not count an approval whose push is never answered', async () => {
    const request = await steps.filed('dana', ENTITLEMENT);
    await steps.note(request, 'lena', 'approve');
    await pushAnswered();
    expect((await stepUpTrail(request)).map((e) => e.evidence?.stepUp)).toEqual(['sent']);

    // Okta expires a push after five minutes.
    await pushAnswered(5 * 60);
    const stored = await sandbox.store.get(request.id);
    expect(stored?.state).toBe('PENDING');
    expect(stored?.decisions).toEqual([]);
    expect((await stepUpTrail(request)).map((e) => e.evidence?.stepUp)).toEqual(['sent', 'timed-out']);
    expect(steps.lastNote(request.incidentId ?? '')).toContain('did not answer the Okta Verify push');
  });

  it('refuses an approver with no Okta Verify push factor, and says what to do', async () => {
    const request = await steps.filed('dana', ENTITLEMENT);
    await steps.note(request, 'kenji', 'approve');
    expect(steps.lastNote(request.incidentId ?? '')).toContain('has no active Okta Verify push factor');
    const refused = (await sandbox.store.listAuditEvents(request.id)).filter(
      (e) => e.evidence?.securityEvent === 'refused-command',
    );
    expect(refused).toHaveLength(1);
    expect((await sandbox.store.get(request.id))?.state).toBe('PENDING');
  });

  it('extends a grant once its author accepts the push, and once only', async () => {
    const request = await steps.filed('dana', ENTITLEMENT);
    await steps.note(request, 'ana', 'approve');
    await pushAnswered();
    const granted = await steps.inState(request.id, 'GRANTED');

    await steps.note(granted, 'ana', 'extend 1h');
    expect((await sandbox.store.get(request.id))?.grant?.expiresAt).toBe(granted.grant?.expiresAt);
    await pushAnswered();
    await pushAnswered();
    const extended = await sandbox.store.get(request.id);
    expect(Date.parse(extended?.grant?.expiresAt ?? '') - Date.parse(granted.grant?.expiresAt ?? '')).toBe(
      3600_000,
    );
    expect(extended?.notesHandled).toHaveLength(1);
  });

  it('does not let a note in a reviewer’s name settle a break-glass review: the reviewer must accept the push', async () => {
    const request = await steps.filed('omar', 'aws-prod-db-connect', {
      duration: '1h',
      labels: ['break-glass'],
    });
    const granted = await steps.inState(request.id, 'GRANTED');
    // Lena reviews break-glass grants (on call for security); her phone never answers this push.
    await noteWithApiKey(granted.incidentId ?? '', 'lena.novak@example.com', 'approve looks fine');
    expect(steps.lastNote(granted.incidentId ?? '')).toContain('Okta Verify push sent to');
    await pushAnswered(5 * 60);
    const stored = await sandbox.store.get(request.id);
    expect(stored?.review).toBeUndefined();
    expect((await stepUpTrail(request)).map((e) => e.evidence?.stepUp)).toEqual(['sent', 'timed-out']);
  });
});

describe('a request its requester must confirm with an Okta Verify push', () => {
  /** Files a ticket and waits until triage has sent the push (or refused the request). */
  async function filedAwaitingPush(reporter: string, entitlement: string) {
    const { key } = sandbox.jira.fileTicket({
      reporter,
      entitlement,
      justification: 'INC-4411 checkout latency in production',
    });
    await sandbox.jira.settled();
    return until(`${key} to wait for its requester's push`, async () => {
      const r = await sandbox.store.getByJiraIssueKey(key);
      return r && (r.requesterProof || r.state === 'REJECTED') ? r : undefined;
    });
  }
  const requesterTrail = async (request: AccessRequest) =>
    (await stepUpTrail(request))
      .filter((e) => e.evidence?.who === 'requester')
      .map((e) => e.evidence?.stepUp);

  it('grants audit-only access only after the requester accepts the push', async () => {
    const request = await filedAwaitingPush('rob', 'aws-billing-read');
    expect(request.state).toBe('TRIAGING');
    await steps.commented(request.jiraIssueKey, 'An Okta Verify push was sent to your device');
    // The phone answers after 5 s; until triage looks again nothing is granted or paged.
    const waiting = await sandbox.store.get(request.id);
    expect(waiting?.state).toBe('TRIAGING');
    expect(waiting?.incidentId).toBeUndefined();

    await pushAnswered();
    const granted = await steps.inState(request.id, 'GRANTED');
    expect(await requesterTrail(request)).toEqual(['sent', 'accepted']);
    expect(sandbox.pagerduty.incident(granted.incidentId ?? '')?.details).toContain(
      'confirmed: the requester accepted an Okta Verify push',
    );
  });

  it('pages an approval request only after the requester accepts, and says so on the page', async () => {
    const request = await filedAwaitingPush('dana', 'okta-prod-admin');
    expect(request.incidentId).toBeUndefined();
    await pushAnswered();
    const pending = await steps.inState(request.id, 'PENDING');
    expect(sandbox.pagerduty.incident(pending.incidentId ?? '')?.details).toContain(
      'confirmed: the requester accepted an Okta Verify push',
    );
  });

  it('rejects a ticket whose requester rejects the push: nobody is paged, nothing granted, a security event', async () => {
    const request = await filedAwaitingPush('sam', 'aws-billing-read');
    await pushAnswered();
    const rejected = await steps.inState(request.id, 'REJECTED');
    expect(rejected.incidentId).toBeUndefined();
    expect(rejected.grant).toBeUndefined();
    expect(await requesterTrail(request)).toEqual(['sent', 'rejected']);
    const trail = await stepUpTrail(request);
    expect(trail.at(-1)?.evidence?.securityEvent).toBe('step-up-rejected');
    await steps.commented(request.jiraIssueKey, 'sent to confirm this request was rejected');
    // A redelivered triage message, or the sweeper, changes nothing.
    await pushAnswered(60);
    expect((await sandbox.store.get(request.id))?.state).toBe('REJECTED');
  });

  it('rejects a ticket whose push is never answered, once Okta lets it expire', async () => {
    const request = await filedAwaitingPush('lena', 'aws-billing-read');
    await pushAnswered();
    expect((await sandbox.store.get(request.id))?.state).toBe('TRIAGING');
    for (let waited = 0; waited < 6 * 60; waited += 60) await pushAnswered(60);
    const rejected = await steps.inState(request.id, 'REJECTED');
    expect(rejected.incidentId).toBeUndefined();
    expect(await requesterTrail(request)).toEqual(['sent', 'timed-out']);
    await steps.commented(request.jiraIssueKey, 'was not answered within 5 minutes');
  });

  it('rejects at once a requester with no Okta Verify push factor, and says what to do', async () => {
    const request = await filedAwaitingPush('kenji', 'aws-billing-read');
    const rejected = await steps.inState(request.id, 'REJECTED');
    expect(rejected.requesterProof).toBeUndefined();
    await steps.commented(request.jiraIssueKey, 'Enroll Okta Verify, then file the request again');
  });
});
