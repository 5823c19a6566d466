// Separation of duties and approval stages, end to end in the sandbox (DynamoDB Local, the
// stand-ins, the real SDK connectors). The catalog here adds conflicts and a manager stage:
//   billing-vs-readonly   aws-billing-read (audit-only) and okta-prod-readonly; Dana holds the
//                         prod-readonly group outside loopgate. Omar approves through it.
//   db-vs-auditors        aws-prod-db-connect (on-call-auto) and the outside Okta group auditors;
//                         Felix is on call for the databases and, in this world, an auditor.
//   logs-vs-readonly      aws-logs-read (approval by Ana or Sam) and okta-prod-readonly; Priya
//                         asks for both through loopgate. Omar or Ana approve through it.
//   okta-prod-admin       the requester's manager first (skipped when there is none), then one
//                         security lead. Maria (Dana's manager) is a security lead here too, and
//                         Kenji's directory profile names Kenji as his own manager.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { DEFAULT_SCENARIO_FILE } from '../../sandbox/scenario/load';
import { Sandbox } from '../../sandbox/world';
import { flow, until } from '../support/sandbox-flow';

const AUDITORS = '00g1auditors00000008';
const OMAR = 'omar.haddad@example.com';
const ANA = 'ana.lima@example.com';

let folder: string;
let sandbox: Sandbox;
const steps = flow(() => sandbox);

function files(): { scenarioFile: string; catalogFile: string } {
  const scenario = parse(readFileSync(DEFAULT_SCENARIO_FILE, 'utf8')) as {
    okta: { groups: Record<string, unknown>[] };
    people: { id: string; manager?: string; okta?: { groups?: string[] } }[];
  };
  scenario.okta.groups.push({ id: AUDITORS, name: 'auditors', description: 'Audit log reviewers' });
  const person = (id: string) => {
    const found = scenario.people.find((p) => p.id === id);
    if (!found?.okta?.groups) throw new Error(`no ${id} with Okta groups in the scenario`);
    return found as { id: string; manager?: string; okta: { groups: string[] } };
  };
  person('felix').okta.groups.push(AUDITORS);
  person('maria').okta.groups.push('00g1securityleads003');
  person('kenji').manager = 'kenji';

  const catalog = parse(readFileSync('config/catalog.yaml', 'utf8')) as {
    entitlements: Record<string, unknown>[];
    conflicts?: unknown[];
  };
  const admin = catalog.entitlements.find((e) => e.id === 'okta-prod-admin');
  if (!admin) throw new Error('no okta-prod-admin in the catalog');
  Object.assign(admin, {
    approvers: { oktaGroup: '00g1securityleads003' },
    approvalsRequired: 1,
    stages: [{ name: 'manager', approvers: { manager: true }, withoutManager: 'skip' }],
  });
  catalog.conflicts = [
    {
      id: 'billing-vs-readonly',
      reason: 'who reads production must not also read what it costs (a test conflict)',
      members: [{ entitlement: 'aws-billing-read' }, { entitlement: 'okta-prod-readonly' }],
      approvers: { emails: [OMAR] },
    },
    {
      id: 'db-vs-auditors',
      reason: 'whoever connects to the production database must not audit those connections',
      members: [{ entitlement: 'aws-prod-db-connect' }, { oktaGroup: AUDITORS }],
      approvers: { escalationPolicy: 'PSECPOL' },
    },
    {
      id: 'logs-vs-readonly',
      reason: 'who reads production must not also read its log archive (a test conflict)',
      members: [{ entitlement: 'aws-logs-read' }, { entitlement: 'okta-prod-readonly' }],
      approvers: { emails: [OMAR, ANA] },
    },
  ];
  const scenarioFile = join(folder, 'scenario.yaml');
  const catalogFile = join(folder, 'catalog.yaml');
  writeFileSync(scenarioFile, stringify(scenario));
  writeFileSync(catalogFile, stringify(catalog));
  return { scenarioFile, catalogFile };
}

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'loopgate-sod-'));
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

const details = (incidentId: string | undefined) =>
  sandbox.pagerduty.incident(incidentId ?? '')?.details ?? '';
const afterLastNote = (incidentId: string | undefined) => steps.lastNote(incidentId ?? '');

describe('separation of duties', () => {
  // First: Felix's on-call shift moves with the clock.
  it('on-call-auto does not grant through a conflict held through an outside Okta group', async () => {
    const request = await steps.filed('felix', 'aws-prod-db-connect', { duration: '2h' });
    expect(request.state).toBe('PENDING');
    expect(request.decisions).toEqual([]);
    expect(request.conflicts).toEqual([
      expect.objectContaining({
        id: 'db-vs-auditors',
        held: [`member of Okta group auditors (${AUDITORS})`],
      }),
    ]);
    const page = details(request.incidentId);
    // The conflict is the first thing on the page.
    expect(page.startsWith('== SEPARATION OF DUTIES: CONFLICT ==')).toBe(true);
    expect(page).toMatch(/\[critical\] separation-of-duties/);
    expect(page).toContain('separation of duties (db-vs-auditors)');
    await steps.commented(request.jiraIssueKey, 'The on-call-auto rule never grants through a conflict');
  });

  it('break-glass is refused through a conflict, with a comment saying why and what to do', async () => {
    const { key } = sandbox.jira.fileTicket({
      reporter: 'felix',
      entitlement: 'aws-prod-db-connect',
      justification: 'INC-4411 pool saturated',
      labels: ['break-glass'],
    });
    await sandbox.jira.settled();
    const rejected = await until('the break-glass request to be rejected', async () => {
      const r = await sandbox.store.getByJiraIssueKey(key);
      return r?.state === 'REJECTED' ? r : undefined;
    });
    expect(rejected.grant).toBeUndefined();
    await steps.commented(key, 'Break-glass never grants through a separation-of-duties conflict');
  });

  it('audit-only waits for the conflict’s approver when one side is held outside loopgate', async () => {
    const request = await steps.filed('dana', 'aws-billing-read');
    expect(request.state).toBe('PENDING');
    expect(request.conflicts?.[0]).toMatchObject({
      id: 'billing-vs-readonly',
      held: [
        expect.stringContaining('okta-prod-readonly outside loopgate: member of Okta group prod-readonly'),
      ],
    });
    await steps.commented(request.jiraIssueKey, 'The audit-only rule never grants through a conflict');
    await steps.note(request, 'omar', 'approve');
    const granted = await steps.inState(request.id, 'GRANTED');
    expect(granted.decisions).toEqual([
      expect.objectContaining({
        stage: 'conflict:billing-vs-readonly',
        actor: expect.objectContaining({ id: OMAR }),
      }),
    ]);
  });

  it('under approval, needs the owners and then the conflict’s approvers, each a different person', async () => {
    // Priya's request for prod-readonly is still waiting (only she is on call to approve it): a
    // live loopgate request counts as held, so two tickets filed together cannot slip past.
    const readonly = await steps.filed('priya', 'okta-prod-readonly');
    expect(readonly.state).toBe('PENDING');
    const request = await steps.filed('priya', 'aws-logs-read');
    expect(request.conflicts?.[0]).toMatchObject({
      id: 'logs-vs-readonly',
      held: [`okta-prod-readonly through loopgate (${readonly.jiraIssueKey}, PENDING)`],
    });
    expect(details(request.incidentId)).toContain('stage 2 of 2, separation of duties (logs-vs-readonly)');

    // The conflict's approver cannot approve while the owners' stage is open.
    await steps.note(request, 'omar', 'approve');
    expect(afterLastNote(request.incidentId)).toContain('the owners stage is open');
    expect((await sandbox.store.get(request.id))?.decisions).toEqual([]);

    await steps.note(request, 'ana', 'approve');
    const afterOwners = await sandbox.store.get(request.id);
    expect(afterOwners?.state).toBe('PENDING');
    expect(afterLastNote(request.incidentId)).toContain(
      'Now open, stage 2 of 2, separation of duties (logs-vs-readonly)',
    );

    // Ana approves through the conflict too: one person, one stage.
    await steps.note(request, 'ana', 'approve');
    expect(afterLastNote(request.incidentId)).toContain('one person approves in one stage only');
    expect((await sandbox.store.get(request.id))?.state).toBe('PENDING');

    await steps.note(request, 'omar', 'approve');
    const granted = await steps.inState(request.id, 'GRANTED');
    expect(granted.decisions.map((d) => [d.stage, d.actor.id])).toEqual([
      ['owners', ANA],
      ['conflict:logs-vs-readonly', OMAR],
    ]);
  });
});

describe('manager, then owners', () => {
  it('needs the manager first: an owner approving early does not skip the stage', async () => {
    const request = await steps.filed('dana', 'okta-prod-admin');
    const page = details(request.incidentId);
    expect(page).toContain('== APPROVAL STAGES ==');
    expect(page).toMatch(
      /stage 1 of 2, manager \(OPEN\): 1 approval from the requester's manager, Maria Gonzalez/,
    );

    await steps.note(request, 'ana', 'approve');
    expect(afterLastNote(request.incidentId)).toContain('the manager stage is open');
    expect((await sandbox.store.get(request.id))?.decisions).toEqual([]);

    await steps.note(request, 'maria', 'approve');
    expect((await sandbox.store.get(request.id))?.state).toBe('PENDING');
    expect(afterLastNote(request.incidentId)).toContain('The manager stage (stage 1 of 2) is complete');
    await steps.commented(request.jiraIssueKey, 'Now open, stage 2 of 2, owners');

    // Maria is a security lead too, but she approved as the manager already.
    await steps.note(request, 'maria', 'approve');
    expect(afterLastNote(request.incidentId)).toContain('one person approves in one stage only');

    await steps.note(request, 'ana', 'approve');
    const granted = await steps.inState(request.id, 'GRANTED');
    expect(granted.decisions.map((d) => [d.stage, d.actor.id])).toEqual([
      ['manager', 'maria.gonzalez@example.com'],
      ['owners', ANA],
    ]);
  });

  it('a requester without a manager goes to the owners, as configured, and the page says so', async () => {
    const request = await steps.filed('maria', 'okta-prod-admin');
    expect(details(request.incidentId)).toContain(
      'the directory names no manager for the requester: the manager stage is skipped, as the catalog says.',
    );
    await steps.note(request, 'ana', 'approve');
    const granted = await steps.inState(request.id, 'GRANTED');
    expect(granted.decisions.map((d) => d.stage)).toEqual(['owners']);
  });

  it('a requester the directory names as their own manager cannot approve as the manager', async () => {
    const request = await steps.filed('kenji', 'okta-prod-admin');
    expect(details(request.incidentId)).toContain(
      "names the requester as their own manager, which can't count",
    );
    await steps.note(request, 'kenji', 'approve');
    expect(afterLastNote(request.incidentId)).toContain('You asked for this access yourself');
    const after = await sandbox.store.get(request.id);
    expect(after?.state).toBe('PENDING');
    expect(after?.decisions).toEqual([]);
  });
});
