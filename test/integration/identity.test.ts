// One identity per person, end to end in the sandbox. The scenario is the
// default one with the awkward identities real organisations have:
// - Priya's PagerDuty user has another address than her Okta login
//   (pnair@ for priya.nair@), and she holds a second PagerDuty user
//   (priya.nair+pd@); the organisation maps PagerDuty user ids in Okta.
// - Dana's Okta login is mixed case, as synced from Active Directory.
// - Tomas hides his email in Jira; the organisation maps Atlassian account ids in Okta.
// A second sandbox is a Jira site that hides every email, with no mapping set up.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { AccessRequest } from '../../lambdas/core/model';
import { DEFAULT_SCENARIO_FILE } from '../../sandbox/scenario/load';
import { Sandbox } from '../../sandbox/world';
import { flow, until } from '../support/sandbox-flow';

type Person = Record<string, Record<string, unknown>> & { id: string };
type Doc = { people: Person[]; jira: Record<string, unknown> };

const TOMAS_ACCOUNT = '712020:5b10ac8d82e05b22cc7d4ef5';
const PRIYA_MAIN = 'PPRIYA1';
const PRIYA_SECOND = 'PPRIYA2';
const SECURITY_LEADS = '00g1securityleads003';
const PROD_ADMIN = '00g1prodadmin0000002';

function scenario(change: (doc: Doc) => void): string {
  const doc = parse(readFileSync(DEFAULT_SCENARIO_FILE, 'utf8')) as Doc;
  change(doc);
  const file = join(folder, `${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, stringify(doc));
  return file;
}

function person(doc: Doc, id: string): Person {
  const found = doc.people.find((p) => p.id === id);
  if (!found) throw new Error(`no ${id} in the default scenario`);
  return found;
}

const awkwardIdentities = (doc: Doc) => {
  const priya = person(doc, 'priya');
  priya.pagerduty = {
    userId: PRIYA_MAIN,
    email: 'pnair@example.com',
    otherUsers: [{ userId: PRIYA_SECOND, email: 'priya.nair+pd@example.com' }],
  };
  const priyaOkta = (priya.okta ??= {}) as { groups?: string[]; profile?: Record<string, string> };
  priyaOkta.groups = [...(priyaOkta.groups ?? []), SECURITY_LEADS];
  priyaOkta.profile = { pagerDutyUserId: PRIYA_MAIN };
  (person(doc, 'dana').okta ??= {}).login = 'Dana.Reyes@example.com';
  const tomas = person(doc, 'tomas');
  tomas.jira = { accountId: TOMAS_ACCOUNT, hideEmail: true };
  (tomas.okta ??= {}).profile = { atlassianAccountId: TOMAS_ACCOUNT };
};

let folder: string;
let sandbox: Sandbox;
const steps = flow(() => sandbox);

beforeAll(async () => {
  folder = mkdtempSync(join(tmpdir(), 'loopgate-identity-'));
  sandbox = await Sandbox.start({
    scenarioFile: scenario(awkwardIdentities),
    log: () => {},
    environment: {
      LOOPGATE_OKTA_JIRA_ACCOUNT_ATTRIBUTE: 'atlassianAccountId',
      LOOPGATE_OKTA_PAGERDUTY_USER_ATTRIBUTE: 'pagerDutyUserId',
    },
  });
});

afterAll(async () => {
  await sandbox?.stop();
  rmSync(folder, { recursive: true, force: true });
});

async function noteAs(request: AccessRequest, pagerdutyUser: string, content: string) {
  sandbox.pagerduty.addNote(request.incidentId ?? '', 'priya', content, { pagerdutyUser });
  await sandbox.settled();
}

const oktaIdOf = (id: string) => sandbox.scenario.people.find((p) => p.id === id)?.okta.id;
const refusals = async (request: AccessRequest) =>
  (await sandbox.store.listAuditEvents(request.id)).filter(
    (e) => e.evidence?.securityEvent === 'refused-command',
  );

describe('one person, several PagerDuty users', () => {
  it('Priya cannot approve her own request from her PagerDuty user with another address, nor from her second one', async () => {
    const request = await steps.filed('priya', 'okta-prod-readonly');
    expect(request.requester).toMatchObject({
      directoryUserId: oktaIdOf('priya'),
      email: 'priya.nair@example.com',
    });

    await noteAs(request, PRIYA_MAIN, 'approve');
    expect(steps.lastNote(request.incidentId ?? '')).toContain('You asked for this access yourself');
    await noteAs(request, PRIYA_SECOND, 'approve');
    expect(steps.lastNote(request.incidentId ?? '')).toContain(
      'priya.nair+pd@example.com has no directory (Okta) account',
    );

    expect((await sandbox.store.get(request.id))?.state).toBe('PENDING');
    expect(await refusals(request)).toHaveLength(2);
  });

  it('counts Priya once toward a two-approval quorum, whichever PagerDuty user she writes from', async () => {
    const request = await steps.filed('dana', 'okta-prod-admin');
    await noteAs(request, PRIYA_MAIN, 'approve');
    await noteAs(request, PRIYA_SECOND, 'approve');

    const stored = await sandbox.store.get(request.id);
    expect(stored?.state).toBe('PENDING');
    expect(stored?.decisions).toEqual([
      expect.objectContaining({
        actor: { kind: 'person', id: 'pnair@example.com', personId: oktaIdOf('priya') },
      }),
    ]);
    expect(await refusals(request)).toHaveLength(1);
  });
});

describe('a mixed-case Okta login', () => {
  it('is found at intake, granted by user id and revoked at expiry', async () => {
    const request = await steps.filed('dana', 'okta-prod-admin', { duration: '1h' });
    expect(request.requester).toMatchObject({
      directoryUserId: oktaIdOf('dana'),
      login: 'Dana.Reyes@example.com',
    });

    await steps.note(request, 'ana', 'approve');
    await steps.note(request, 'sam', 'approve');
    const granted = await steps.inState(request.id, 'GRANTED');
    expect(granted.grant?.principal).toBe(oktaIdOf('dana'));
    expect(await steps.oktaMembers(PROD_ADMIN)).toContain('Dana.Reyes@example.com');

    await steps.passExpiry(granted);
    await steps.inState(request.id, 'REVOKED');
    expect(await steps.oktaMembers(PROD_ADMIN)).not.toContain('Dana.Reyes@example.com');
  });
});

describe('a requester whose email Jira hides', () => {
  it('is identified through the Okta mapping of Atlassian account ids, and paged', async () => {
    const request = await steps.filed('tomas', 'okta-prod-readonly');
    expect(request.state).toBe('PENDING');
    expect(request.requester).toMatchObject({
      jiraAccountId: TOMAS_ACCOUNT,
      directoryUserId: oktaIdOf('tomas'),
    });
  });
});

describe('a Jira site that hides every email, with no mapping configured', () => {
  let hidden: Sandbox;
  beforeAll(async () => {
    hidden = await Sandbox.start({
      scenarioFile: scenario((doc) => {
        doc.jira.hideEmails = true;
      }),
      log: () => {},
    });
  });
  afterAll(() => hidden?.stop());

  it('rejects the ticket with one comment that tells the admin what to set up, and pages nobody', async () => {
    const { key } = hidden.jira.fileTicket({
      reporter: 'dana',
      entitlement: 'okta-prod-readonly',
      justification: 'INC-4411 checkout latency in production',
    });
    await hidden.jira.settled();
    const request = await until(`${key} to be rejected`, async () => {
      const r = await hidden.store.getByJiraIssueKey(key);
      return r?.state === 'REJECTED' ? r : undefined;
    });
    expect(request.incidentId).toBeUndefined();
    const comments = (hidden.jira.state().issues.find((i) => (i as { key?: string }).key === key)?.comments ??
      []) as { body: unknown }[];
    expect(comments).toHaveLength(1);
    const text = JSON.stringify(comments[0]?.body);
    expect(text).toContain('hides your email address');
    expect(text).toContain('okta.identity.jiraAccountIdAttribute');
  });
});
