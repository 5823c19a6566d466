import { describe, expect, it } from 'vitest';
import { loadScenarioFile, resolveMoment, resolveScenario, ScenarioError } from '../../sandbox/scenario/load';

const start = new Date('2026-11-21T09:00:00.000Z');
const scenario = loadScenarioFile('sandbox/scenarios/default.yaml', start);
const person = (id: string) => scenario.people.find((p) => p.id === id);

describe('the default scenario', () => {
  it('is a small company: at least 12 people across 3 teams, with managers', () => {
    expect(scenario.people.length).toBeGreaterThanOrEqual(12);
    expect(new Set(scenario.people.map((p) => p.team)).size).toBeGreaterThanOrEqual(3);
    expect(scenario.people.filter((p) => p.manager).length).toBeGreaterThanOrEqual(9);
  });

  it('holds the risky facts the demo relies on', () => {
    expect(person('zoe')?.okta.status).toBe('SUSPENDED');
    expect(person('ivan')?.okta.factors).toEqual([]);
    expect(person('kenji')?.okta.created.toISOString()).toBe('2026-11-16T09:00:00.000Z');
    const countries = person('chloe')?.okta.signIns.map((s) => s.country);
    expect(countries?.[0]).toBe('Brazil');
    expect(countries?.slice(1).every((c) => c === 'Germany')).toBe(true);
  });

  it('owns everything the example catalog points at', async () => {
    const { loadCatalogFile } = await import('../../lambdas/platform/catalog-file');
    const catalog = loadCatalogFile('config/catalog.yaml');
    const groups = new Set(scenario.okta.groups.map((g) => g.id));
    const policies = new Set(scenario.pagerduty.escalationPolicies.map((e) => e.id));
    const services = new Set(scenario.pagerduty.services.map((s) => s.id));
    const emails = new Set(scenario.people.map((p) => p.email));
    for (const e of catalog.entitlements) {
      if (e.action.kind === 'okta-group') expect(groups, e.id).toContain(e.action.groupId);
      expect(policies, e.id).toContain(e.owners.escalationPolicy);
      expect(services, e.id).toContain(e.owners.service);
      if (e.approvers?.oktaGroup) expect(groups, e.id).toContain(e.approvers.oktaGroup);
      for (const email of e.approvers?.emails ?? []) expect(emails, e.id).toContain(email);
    }
  });

  it('gives every person stable, unique vendor ids', () => {
    const again = loadScenarioFile('sandbox/scenarios/default.yaml', start);
    expect(again.people.map((p) => p.pagerduty.userId)).toEqual(
      scenario.people.map((p) => p.pagerduty.userId),
    );
    for (const key of ['okta', 'jira', 'pagerduty', 'slack'] as const) {
      const ids = scenario.people.map((p) => JSON.stringify(p[key]));
      expect(new Set(ids).size, key).toBe(ids.length);
    }
    expect(person('dana')?.okta.id).toMatch(/^00u[a-z0-9]{17}$/);
    expect(person('dana')?.pagerduty.userId).toMatch(/^P[A-Z0-9]{6}$/);
    expect(person('dana')?.aws?.iamUser).toBe('dana.reyes');
  });

  it('resolves relative moments against the start', () => {
    expect(scenario.start).toEqual(start);
    expect(person('dana')?.okta.signIns[0]?.at.toISOString()).toBe('2026-11-21T07:00:00.000Z');
  });
});

describe('moments', () => {
  it.each([
    ['-3d', '2026-11-18T09:00:00.000Z'],
    ['-2h', '2026-11-21T07:00:00.000Z'],
    ['+30m', '2026-11-21T09:30:00.000Z'],
    ['2026-01-01T00:00:00Z', '2026-01-01T00:00:00.000Z'],
  ])('%s', (moment, iso) => {
    expect(resolveMoment(moment, start).toISOString()).toBe(iso);
  });
});

describe('a bad scenario', () => {
  const minimal = () => ({
    company: { name: 'X', domain: 'x.example' },
    teams: [{ id: 'ops', name: 'Ops' }],
    people: [{ id: 'al', name: 'Al', email: 'al@x.example', title: 'Eng', department: 'Eng', team: 'ops' }],
    okta: { groups: [] },
    aws: { accountId: '111122223333', policies: [] },
    pagerduty: { services: [], escalationPolicies: [], schedules: [] },
    slack: { channels: [] },
    jira: {
      projects: [],
      fields: { entitlement: 'customfield_1', duration: 'customfield_2', justification: 'customfield_3' },
    },
  });

  it('loads when minimal', () => {
    expect(resolveScenario(minimal(), 'mini.yaml', start).people[0]?.okta.status).toBe('ACTIVE');
  });

  it('names each broken reference', () => {
    const doc = minimal();
    doc.people.push({
      id: 'bo',
      name: 'Bo',
      email: 'al@x.example',
      title: 'E',
      department: 'E',
      team: 'nope',
      manager: 'zed',
    } as never);
    expect(() => resolveScenario(doc, 'bad.yaml', start)).toThrow(ScenarioError);
    expect(() => resolveScenario(doc, 'bad.yaml', start)).toThrow(
      /bad.yaml: the scenario is invalid\n {2}people.bo: duplicate email al@x.example\n {2}people.bo: unknown team "nope"\n {2}people.bo: unknown manager "zed"/,
    );
  });

  it('names schema problems by path', () => {
    const doc = { ...minimal(), people: [{ id: 'Al!', email: 'no' }] };
    expect(() => resolveScenario(doc, 'bad.yaml', start)).toThrow(/people\.0\.id: a handle is lower-case/);
  });
});
