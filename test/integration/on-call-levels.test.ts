// Who is "on call" for on-call-auto and for on-call approvers, end to end in the
// sandbox: only a scheduled shift at level 1 of the owners' policy (the catalog's
// default onCall.levels) counts; a level-2 shift and a permanent escalation
// target (no start, no end) do not; an override counts as the shift it replaces.
// The page says which rule applied.
//
// The scenario is the default one with the databases policy (PDBAPOL, owners of
// the on-call-auto aws-prod-db-connect) reshaped: level 1 is the Databases
// primary schedule plus Omar named directly (permanent), level 2 a schedule
// only Kenji is on plus Grace named directly; Tomas overrides Felix's shift now.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessRequest } from '../../lambdas/core/model';
import { DEFAULT_SCENARIO_FILE } from '../../sandbox/scenario/load';
import { Sandbox } from '../../sandbox/world';
import { flow } from '../support/sandbox-flow';

let sandbox: Sandbox;
let dir: string;

function scenarioYaml(): string {
  const original = readFileSync(DEFAULT_SCENARIO_FILE, 'utf8');
  const policy = `        - { delayMinutes: 15, targets: [schedule:PDBASCH] }
        - { delayMinutes: 30, targets: [user:grace] }`;
  const schedule = `      rotation: { start: -3d, shiftHours: 24, people: [felix, grace, ivan] }
`;
  if (!original.includes(policy) || !original.includes(schedule)) {
    throw new Error('the default scenario changed: update this test');
  }
  return original
    .replace(
      policy,
      `        - { delayMinutes: 15, targets: [schedule:PDBASCH, user:omar] }
        - { delayMinutes: 30, targets: [schedule:PDBA2SCH, user:grace] }`,
    )
    .replace(
      schedule,
      `${schedule}      overrides: [{ person: tomas, start: -1h, end: +6h }]
    - id: PDBA2SCH
      name: Databases secondary
      rotation: { start: -3d, shiftHours: 24, people: [kenji] }
`,
    );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'loopgate-on-call-'));
  const scenarioFile = join(dir, 'scenario.yaml');
  writeFileSync(scenarioFile, scenarioYaml());
  sandbox = await Sandbox.start({ scenarioFile, log: () => {} });
}, 120_000);

afterAll(async () => {
  await sandbox?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const { filed, note, lastNote } = flow(() => sandbox);
const details = (request: AccessRequest) =>
  sandbox.pagerduty.incident(request.incidentId ?? '')?.details ?? '';
const approvedByRule = async (request: AccessRequest) =>
  (await sandbox.store.listAuditEvents(request.id)).find((e) => e.from === 'TRIAGING' && e.to === 'APPROVED');

describe('on-call-auto counts a level-1 shift only', () => {
  it('pages the owners for someone on call at level 2 only, and the page says why the rule did not apply', async () => {
    const request = await filed('kenji', 'aws-prod-db-connect', { duration: '2h' });
    expect(request.state).toBe('PENDING');
    expect(await approvedByRule(request)).toBeUndefined();
    expect(sandbox.pagerduty.incident(request.incidentId ?? '')?.policy.id).toBe('PDBAPOL');
    const page = details(request);
    expect(page).toContain('rule on-call-auto did not apply: it grants at once only to whoever is on call');
    expect(page).toContain('PDBAPOL at level 1');
    expect(page).toContain('on call at level 2 of PDBAPOL only');
  });

  it('pages the owners for a permanent level-1 target: no shift, no rule', async () => {
    const request = await filed('omar', 'aws-prod-db-connect', { duration: '2h' });
    expect(request.state).toBe('PENDING');
    expect(details(request)).toContain('a permanent target at level 1 of PDBAPOL only');
  });

  it('pages the owners for someone whose level-1 shift is overridden right now', async () => {
    const request = await filed('felix', 'aws-prod-db-connect', { duration: '2h' });
    expect(request.state).toBe('PENDING');
  });

  it('approves by rule whoever holds the level-1 shift through an override, naming the rule', async () => {
    const request = await filed('tomas', 'aws-prod-db-connect', { duration: '2h' });
    expect(['APPROVED', 'GRANTED']).toContain(request.state);
    const byRule = await approvedByRule(request);
    expect(byRule?.reason).toMatch(/on call at level 1 of PDBAPOL \(schedule PDBASCH, until .+ UTC\)/);
    expect(details(request)).toContain('on call at level 1 of PDBAPOL (schedule PDBASCH');
  });
});

describe('on-call approvers count a level-1 shift only', () => {
  it('refuses a note from someone on call at level 2, and from a permanent target, then takes the override holder’s', async () => {
    const request = await filed('chloe', 'aws-prod-db-connect', { duration: '2h' });
    expect(request.state).toBe('PENDING');
    const incidentId = request.incidentId ?? '';

    const refusals = () =>
      (sandbox.pagerduty.incident(incidentId)?.notes ?? []).filter((n) =>
        n.content.startsWith('Not accepted'),
      );
    for (const [i, who] of ['kenji', 'grace', 'omar', 'felix'].entries()) {
      await note(request, who, 'approve looks fine');
      // One refusal per note, naming its author (so a stale one cannot pass for it).
      expect(refusals()).toHaveLength(i + 1);
      expect(lastNote(incidentId)).toMatch(
        new RegExp(`^Not accepted: ${who}[^ ]*@example\\.com is not an approver for aws-prod-db-connect`),
      );
      expect((await sandbox.store.get(request.id))?.state).toBe('PENDING');
    }

    await note(request, 'tomas', 'approve checked with chloe');
    expect(['APPROVED', 'GRANTED']).toContain((await sandbox.store.get(request.id))?.state);
  });
});
