// Grants that end with the requester's on-call shift, end to end in the sandbox:
// an on-call-auto grant ends when the requester's shift ends (capped by what
// was asked and the maximum), moves when an override extends the shift, is
// brought forward by a later handover and ends at once by a handover now; the
// page and the ticket say "until your shift ends at …". Attacker's view: on
// call for another schedule than the entitlement's grants nothing by rule; an
// approval-mode shift-bound grant whose shift ended before the approval grants
// nothing; PagerDuty down during a re-check extends nothing, and the grant
// still ends on time.
//
// The default scenario: Felix holds Databases primary (PDBAPOL, owners of the
// on-call-auto aws-prod-db-connect) and Priya SRE primary (PSREPOL, owners of
// okta-prod-readonly and the on-call-auto okta-incident-responder) when it
// starts. Overrides are made through PagerDuty's REST API.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { AccessRequest } from '../../lambdas/core/model';
import { Sandbox } from '../../sandbox/world';
import { flow, until } from '../support/sandbox-flow';

const HOUR = 3_600_000;
let sandbox: Sandbox;
let folder: string;

const { filed, note, inState, commented, sweep, oktaMembers } = flow(() => sandbox);

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'loopgate-shift-'));
  const catalog = parse(readFileSync('config/catalog.yaml', 'utf8')) as {
    entitlements: Record<string, unknown>[];
  };
  const readonly = catalog.entitlements.find((e) => e.id === 'okta-prod-readonly');
  if (!readonly) throw new Error('no okta-prod-readonly in the catalog');
  // Approval mode, granted only for the requester's shift; Ana approves.
  Object.assign(readonly, {
    approvers: { emails: ['ana.lima@example.com'] },
    onCall: { levels: [1], endWithShift: true },
  });
  const catalogFile = join(folder, 'catalog.yaml');
  writeFileSync(catalogFile, stringify(catalog));
  sandbox = await Sandbox.start({ log: () => {}, environment: { LOOPGATE_CATALOG_FILE: catalogFile } });
  origin = Math.floor(sandbox.clock.now().getTime() / 1000) * 1000;
}, 120_000);

afterAll(async () => {
  await sandbox?.stop();
  rmSync(folder, { recursive: true, force: true });
});

/** Whole seconds (PagerDuty's resolution) from when the sandbox started: the sandbox clock runs on. */
let origin = 0;
const hoursFromNow = (hours: number) => new Date(origin + hours * HOUR);
const iso = (at: Date) => at.toISOString();

/** An override through PagerDuty's REST API (POST /schedules/{id}/overrides). */
async function override(scheduleId: string, who: string, start: Date, end: Date): Promise<void> {
  const person = sandbox.scenario.people.find((p) => p.id === who);
  if (!person) throw new Error(`no ${who}`);
  const response = await fetch(`${sandbox.pagerduty.url}/schedules/${scheduleId}/overrides`, {
    method: 'POST',
    headers: {
      Authorization: `Token token=${sandbox.credentials.pagerduty.token}`,
      Accept: 'application/vnd.pagerduty+json;version=2',
      'Content-Type': 'application/json',
    },
    body: JSON.stringify({
      overrides: [
        { start: iso(start), end: iso(end), user: { id: person.pagerduty.userId, type: 'user_reference' } },
      ],
    }),
  });
  const body = (await response.json()) as { status: number }[];
  expect(body.map((b) => b.status)).toEqual([201]);
}

const details = (request: AccessRequest) =>
  sandbox.pagerduty.incident(request.incidentId ?? '')?.details ?? '';
const roleCondition = (requestId: string) =>
  (
    (sandbox.iam.principalPolicies('role', 'prod-incident-operator')?.inline ?? {}) as Record<
      string,
      { Statement: { Condition?: Record<string, Record<string, string>> }[] }
    >
  )[`loopgate-${requestId}`]?.Statement[0]?.Condition?.DateLessThan?.['aws:CurrentTime'];
const scheduleOf = (requestId: string) =>
  sandbox.host.scheduler.state().schedules.find((s) => JSON.stringify(s).includes(requestId))?.NextInvocation;

describe('attacker: on call, but not for the entitlement’s owners', () => {
  it('pages the owners for someone on call for another schedule (SRE), and grants nothing by rule', async () => {
    const request = await filed('priya', 'aws-prod-db-connect', { duration: '8h' });
    expect(request.state).toBe('PENDING');
    expect(request.decisions).toEqual([]);
    expect(details(request)).not.toContain('APPROVED BY RULE');
  });
});

describe('attacker: an approval-mode shift-bound grant whose shift ended before the approval', () => {
  it('says so on the page and the ticket, then grants nothing once the shift is handed over', async () => {
    const request = await filed('priya', 'okta-prod-readonly', { duration: '8h' });
    expect(request.state).toBe('PENDING');
    expect(details(request)).toContain('SHIFT-BOUND');
    expect(details(request)).toContain('until your shift ends at');
    await commented(request.jiraIssueKey, 'until your shift ends at');

    // Maria takes over the SRE shift now; Ana approves afterwards.
    await override('PSRESCH', 'maria', hoursFromNow(0), hoursFromNow(7 * 24));
    await note(request, 'ana', 'approve fine');
    const cancelled = await inState(request.id, 'CANCELLED');
    expect(cancelled.grant).toBeUndefined();
    expect(await oktaMembers('00g1prodreadonly0001')).not.toContain('priya.nair@example.com');
    await commented(request.jiraIssueKey, 'your shift ended before it could be granted');
    const trail = await sandbox.store.listAuditEvents(request.id);
    expect(trail.at(-1)?.reason).toMatch(/shift ended before the grant/);
  });
});

describe('an on-call-auto grant ends with the shift', () => {
  let request: AccessRequest;

  it('ends at the shift’s end (a handover in 3 hours), not at the 8 hours asked, and says so', async () => {
    await override('PDBASCH', 'tomas', hoursFromNow(3), hoursFromNow(27));
    const shiftEnd = hoursFromNow(3);
    request = await inState((await filed('felix', 'aws-prod-db-connect', { duration: '8h' })).id, 'GRANTED');
    expect(request.grant?.expiresAt).toBe(iso(shiftEnd));
    expect(request.grant?.shift).toMatchObject({
      escalationPolicyId: 'PDBAPOL',
      shiftEnd: iso(shiftEnd),
      capAt: iso(new Date(Date.parse(request.grant?.grantedAt ?? '') + 8 * HOUR)),
    });
    expect(roleCondition(request.id)).toBe(iso(shiftEnd));
    expect(scheduleOf(request.id)).toBe(iso(shiftEnd));
    expect(details(request)).toContain('granted until your shift ends at');
    await commented(request.jiraIssueKey, 'is being granted until your shift ends at');
    await commented(request.jiraIssueKey, 'is in place until your shift ends at');
  });

  it('moves when the shift is extended (Felix takes two more hours), audited, schedule and policy with it', async () => {
    const extended = hoursFromNow(5);
    await override('PDBASCH', 'felix', hoursFromNow(3), extended);
    await sweep();
    const moved = await until('the grant to move', async () => {
      const r = await sandbox.store.get(request.id);
      return r?.grant?.expiresAt === iso(extended) ? r : undefined;
    });
    expect(moved.state).toBe('GRANTED');
    expect(moved.dueAt).toBe(iso(extended));
    const trail = await sandbox.store.listAuditEvents(request.id);
    expect(trail.at(-1)).toMatchObject({ from: 'GRANTED', to: 'GRANTED' });
    expect(trail.at(-1)?.reason).toMatch(/shift now ends at .* the grant moves/);
    expect(scheduleOf(request.id)).toBe(iso(extended));
    await until('the inline policy to carry the new expiry', async () =>
      roleCondition(request.id) === iso(extended) ? true : undefined,
    );
    await commented(request.jiraIssueKey, 'Your on-call shift changed');
  });

  it('never moves past its cap (8 hours from the grant), however long the shift grows', async () => {
    await override('PDBASCH', 'felix', hoursFromNow(3), hoursFromNow(20));
    await sweep();
    const cap = request.grant?.shift?.capAt;
    const capped = await until('the grant to reach its cap', async () => {
      const r = await sandbox.store.get(request.id);
      return r?.grant?.expiresAt === cap ? r : undefined;
    });
    // PagerDuty is asked only as far as the cap: the shift runs at least that long.
    expect(Date.parse(capped.grant?.shift?.shiftEnd ?? '')).toBeGreaterThanOrEqual(Date.parse(cap ?? ''));
    // EventBridge's at() has whole seconds: the revoke runs at the first one not before the cap.
    expect(Date.parse(scheduleOf(request.id) ?? '')).toBe(Math.ceil(Date.parse(cap ?? '') / 1000) * 1000);
  });

  it('ends at once when the shift is handed over now', async () => {
    await override('PDBASCH', 'tomas', hoursFromNow(0), hoursFromNow(27));
    await sweep();
    const revoked = await inState(request.id, 'REVOKED');
    const trail = await sandbox.store.listAuditEvents(revoked.id);
    expect(trail.at(-1)?.reason).toMatch(/handed over or ended early/);
    expect(roleCondition(request.id)).toBeUndefined();
  });
});

describe('attacker: PagerDuty unavailable when re-checking', () => {
  it('extends nothing, and the grant still ends at its recorded end', async () => {
    // Maria holds SRE primary since the handover above; Dana takes over in two hours.
    await override('PSRESCH', 'dana', hoursFromNow(2), hoursFromNow(7 * 24));
    const end = hoursFromNow(2);
    const request = await inState(
      (await filed('maria', 'okta-incident-responder', { duration: '12h' })).id,
      'GRANTED',
    );
    expect(request.grant?.expiresAt).toBe(iso(end));
    expect(await oktaMembers('00g1incidentresp0004')).toContain('maria.gonzalez@example.com');

    // The shift grows, but PagerDuty cannot be asked: nothing moves.
    await override('PSRESCH', 'maria', hoursFromNow(2), hoursFromNow(6));
    sandbox.pagerduty.faults.set('*', { failNext: 1000, status: 503 });
    try {
      await sweep();
      const after = await sandbox.store.get(request.id);
      expect(after?.state).toBe('GRANTED');
      expect(after?.grant?.expiresAt).toBe(iso(end));
      expect(after?.version).toBe(request.version);

      sandbox.clock.advance(2 * HOUR + 60_000);
      await sandbox.host.scheduler.runDue();
      await inState(request.id, 'REVOKED');
      expect(await oktaMembers('00g1incidentresp0004')).not.toContain('maria.gonzalez@example.com');
    } finally {
      sandbox.pagerduty.faults.clear();
    }
  });
});

describe('an approver’s extension of a shift-bound grant', () => {
  it('holds: the grant stops following the shift, and the sweeper’s re-check does not pull it back', async () => {
    // After the test above, Maria holds SRE primary until hoursFromNow(6) (her override).
    const shiftEnd = hoursFromNow(6);
    const request = await filed('maria', 'okta-prod-readonly', { duration: '8h' });
    await note(request, 'ana', 'approve fine');
    const granted = await inState(request.id, 'GRANTED');
    expect(granted.grant?.expiresAt).toBe(iso(shiftEnd));
    expect(granted.grant?.shift).toBeDefined();

    await note(request, 'ana', 'extend 3h handover runs late');
    const extended = await until('the extension', async () => {
      const r = await sandbox.store.get(request.id);
      return r?.grant && Date.parse(r.grant.expiresAt) > shiftEnd.getTime() ? r : undefined;
    });
    expect(extended.grant?.shift).toBeUndefined();
    await commented(request.jiraIssueKey, 'It no longer ends with the on-call shift.');

    await sweep();
    const after = await sandbox.store.get(request.id);
    expect(after?.state).toBe('GRANTED');
    expect(after?.grant?.expiresAt).toBe(extended.grant?.expiresAt);
  });
});
