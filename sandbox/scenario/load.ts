// Loads a scenario file, checks its cross-references (managers, teams, groups,
// rotations, policies) and resolves it: relative moments become dates and every
// person gets concrete vendor ids, so each stand-in reads plain data.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { type ScenarioDocument, scenarioSchema } from './schema';

type DocPerson = ScenarioDocument['people'][number];

export interface ScenarioPerson extends Omit<DocPerson, 'okta' | 'jira' | 'pagerduty' | 'slack' | 'aws'> {
  okta: Omit<DocPerson['okta'], 'id' | 'created' | 'signIns'> & {
    id: string;
    created: Date;
    signIns: (Omit<DocPerson['okta']['signIns'][number], 'at' | 'ip'> & { at: Date; ip: string })[];
  };
  jira: { accountId: string; hideEmail: boolean };
  /** The person's PagerDuty user (its own address when the scenario gives one) and any further users they hold. */
  pagerduty: { userId: string; email: string; otherUsers: { userId: string; email: string }[] };
  slack: { userId: string };
  aws?: Omit<NonNullable<DocPerson['aws']>, 'iamUser' | 'lastAccessed'> & {
    iamUser: string;
    lastAccessed: { service: string; namespace: string; at: Date }[];
  };
}

export interface Scenario extends Omit<ScenarioDocument, 'people' | 'start' | 'pagerduty' | 'slack'> {
  start: Date;
  people: ScenarioPerson[];
  pagerduty: Omit<ScenarioDocument['pagerduty'], 'schedules'> & {
    schedules: (Omit<ScenarioDocument['pagerduty']['schedules'][number], 'rotation' | 'overrides'> & {
      rotation: { start: Date; shiftHours: number; people: string[] };
      /** `id` for overrides created through the API (POST /schedules/{id}/overrides). */
      overrides: { id?: string; person: string; start: Date; end: Date }[];
    })[];
  };
  slack: Omit<ScenarioDocument['slack'], 'messages'> & {
    messages: (Omit<ScenarioDocument['slack']['messages'][number], 'at'> & { at: Date; ts: string })[];
  };
}

export class ScenarioError extends Error {}

export const DEFAULT_SCENARIO_FILE = 'sandbox/scenarios/default.yaml';

export function loadScenarioFile(file: string, now: Date = new Date()): Scenario {
  let data: unknown;
  try {
    data = parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ScenarioError(`${file}: ${(error as Error).message}`);
  }
  return resolveScenario(data, file, now);
}

export function resolveScenario(data: unknown, source: string, now: Date = new Date()): Scenario {
  const parsed = scenarioSchema.safeParse(data);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw new ScenarioError(`${source}: the scenario is invalid\n${lines.join('\n')}`);
  }
  const doc = parsed.data;
  const start = doc.start ? new Date(doc.start) : now;
  const at = (m: string) => resolveMoment(m, start);
  checkReferences(doc, source, start);

  const people = doc.people.map((p): ScenarioPerson => {
    const { okta, jira, pagerduty, slack, aws, ...rest } = p;
    return {
      ...rest,
      okta: {
        ...okta,
        id: okta.id ?? `00u${alnum(p.id, 17)}`,
        created: at(okta.created),
        signIns: okta.signIns.map((s, i) => ({
          ...s,
          at: at(s.at),
          ip: s.ip ?? `198.51.100.${(i % 250) + 1}`,
        })),
      },
      jira: {
        accountId: jira.accountId ?? `712020:${digest(`jira:${p.id}`, 24, 'hex')}`,
        hideEmail: jira.hideEmail,
      },
      pagerduty: {
        userId: pagerduty.userId ?? `P${digest(`pd:${p.id}`, 6, 'upper')}`,
        email: pagerduty.email ?? p.email,
        otherUsers: pagerduty.otherUsers,
      },
      slack: { userId: slack.userId ?? `U${digest(`slack:${p.id}`, 10, 'upper')}` },
      ...(aws
        ? {
            aws: {
              ...aws,
              iamUser: aws.iamUser ?? p.email.split('@')[0] ?? p.id,
              lastAccessed: aws.lastAccessed.map((l) => ({ ...l, at: at(l.at) })),
            },
          }
        : {}),
    };
  });

  return {
    ...doc,
    start,
    people,
    pagerduty: {
      ...doc.pagerduty,
      schedules: doc.pagerduty.schedules.map((s) => ({
        ...s,
        rotation: { ...s.rotation, start: at(s.rotation.start) },
        overrides: s.overrides.map((o) => ({ ...o, start: at(o.start), end: at(o.end) })),
      })),
    },
    slack: {
      ...doc.slack,
      messages: doc.slack.messages.map((m, i) => {
        const when = at(m.at);
        // Slack message ids are "<epoch seconds>.<6 digits>", unique per channel.
        return { ...m, at: when, ts: `${Math.floor(when.getTime() / 1000)}.${String(i).padStart(6, '0')}` };
      }),
    },
  };
}

export function resolveMoment(moment: string, start: Date): Date {
  const relative = /^([+-])(\d+)([mhd])$/.exec(moment);
  if (!relative) return new Date(moment);
  const [, sign, amount, unit] = relative as unknown as [string, '+' | '-', string, 'm' | 'h' | 'd'];
  const ms = Number(amount) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[unit];
  return new Date(start.getTime() + (sign === '-' ? -ms : ms));
}

function checkReferences(doc: ScenarioDocument, source: string, start: Date): void {
  const problems: string[] = [];
  const personIds = new Set<string>();
  for (const p of doc.people) {
    if (personIds.has(p.id)) problems.push(`people: duplicate id "${p.id}"`);
    personIds.add(p.id);
  }
  const emails = new Set<string>();
  for (const p of doc.people) {
    if (emails.has(p.email)) problems.push(`people.${p.id}: duplicate email ${p.email}`);
    emails.add(p.email);
  }
  const teams = new Set(doc.teams.map((t) => t.id));
  const groups = new Set(doc.okta.groups.map((g) => g.id));
  const iamGroups = new Set(doc.aws.groups.map((g) => g.name));
  const policies = new Set(doc.aws.policies.map((p) => p.arn));
  const schedules = new Set(doc.pagerduty.schedules.map((s) => s.id));
  const escalationPolicies = new Set(doc.pagerduty.escalationPolicies.map((e) => e.id));
  const channels = new Set(doc.slack.channels.map((c) => c.id));
  const need = (ok: boolean, where: string, what: string) => ok || problems.push(`${where}: ${what}`);

  for (const p of doc.people) {
    const where = `people.${p.id}`;
    need(teams.has(p.team), where, `unknown team "${p.team}"`);
    if (p.manager) need(personIds.has(p.manager), where, `unknown manager "${p.manager}"`);
    for (const g of p.okta.groups) need(groups.has(g), where, `unknown Okta group "${g}"`);
    for (const g of p.aws?.groups ?? []) need(iamGroups.has(g), where, `unknown IAM group "${g}"`);
    for (const a of p.aws?.attachedPolicies ?? []) need(policies.has(a), where, `unknown IAM policy "${a}"`);
  }
  for (const principal of [...doc.aws.groups, ...doc.aws.roles]) {
    for (const a of principal.attachedPolicies)
      need(policies.has(a), `aws.${principal.name}`, `unknown IAM policy "${a}"`);
  }
  for (const s of doc.pagerduty.schedules) {
    for (const p of s.rotation.people)
      need(personIds.has(p), `pagerduty.schedules.${s.id}`, `unknown person "${p}"`);
    s.overrides.forEach((o, i) => {
      const where = `pagerduty.schedules.${s.id}.overrides[${i}]`;
      need(personIds.has(o.person), where, `unknown person "${o.person}"`);
      need(
        resolveMoment(o.end, start) > resolveMoment(o.start, start),
        where,
        'an override must end after it starts',
      );
    });
  }
  for (const e of doc.pagerduty.escalationPolicies) {
    for (const t of e.rules.flatMap((r) => r.targets)) {
      const [kind, id = ''] = t.split(':');
      const known = kind === 'schedule' ? schedules.has(id) : personIds.has(id);
      need(known, `pagerduty.escalationPolicies.${e.id}`, `unknown target "${t}"`);
    }
  }
  for (const s of doc.pagerduty.services) {
    need(
      escalationPolicies.has(s.escalationPolicy),
      `pagerduty.services.${s.id}`,
      `unknown escalation policy`,
    );
  }
  for (const m of doc.slack.messages) {
    need(channels.has(m.channel), 'slack.messages', `unknown channel "${m.channel}"`);
    need(personIds.has(m.user), 'slack.messages', `unknown person "${m.user}"`);
  }
  const ic = doc.identityCenter;
  for (const a of ic?.assignments ?? []) {
    const where = 'identityCenter.assignments';
    need(personIds.has(a.person), where, `unknown person "${a.person}"`);
    need(ic?.accounts.some((x) => x.id === a.account) ?? false, where, `unknown account "${a.account}"`);
    need(
      ic?.permissionSets.some((ps) => ps.name === a.permissionSet) ?? false,
      where,
      `unknown permission set "${a.permissionSet}"`,
    );
  }
  for (const p of ic?.notSynced ?? [])
    need(personIds.has(p), 'identityCenter.notSynced', `unknown person "${p}"`);
  if (problems.length)
    throw new ScenarioError(`${source}: the scenario is invalid\n  ${problems.join('\n  ')}`);
}

/** Letters and digits of a handle, padded or cut to a fixed length (Okta ids are 20 characters). */
function alnum(text: string, length: number): string {
  return text
    .replace(/[^a-z0-9]/gi, '')
    .padEnd(length, '0')
    .slice(0, length);
}

/** A stable id fragment derived from text, so the same scenario always yields the same vendor ids. */
function digest(text: string, length: number, alphabet: 'hex' | 'upper'): string {
  const hex = createHash('sha256').update(text).digest('hex');
  if (alphabet === 'hex') return hex.slice(0, length);
  const chars = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';
  return Array.from(
    { length },
    (_, i) => chars[parseInt(hex.slice(i * 2, i * 2 + 2), 16) % chars.length],
  ).join('');
}
