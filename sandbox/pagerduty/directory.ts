// The scenario seen as a PagerDuty account: users, services, escalation
// policies and schedules, rendered in REST API v2 shapes (full objects and the
// `{id, type, summary, self, html_url}` references that point at them).

import { createHash } from 'node:crypto';
import type { Scenario, ScenarioPerson } from '../scenario/load';

type ScenarioPagerDuty = Scenario['pagerduty'];
export type ScenarioService = ScenarioPagerDuty['services'][number];
export type ScenarioPolicy = ScenarioPagerDuty['escalationPolicies'][number];
export type ScenarioSchedule = ScenarioPagerDuty['schedules'][number];

/**
 * One PagerDuty user. A person has a main user (`pagerduty.userId`, with
 * `pagerduty.email` when it differs from the person's address) and may hold
 * more (`pagerduty.otherUsers`): each its own id and login email, same name.
 * Schedules and escalation policies name people, so only the main user is on call.
 */
export interface PagerDutyUser {
  id: string;
  email: string;
  person: ScenarioPerson;
  main: boolean;
}

/** The scenario person's `pagerduty` block, with the fields a scenario may give beyond the id. */
type PersonAccounts = ScenarioPerson['pagerduty'] & {
  email?: string;
  otherUsers?: readonly { userId: string; email: string }[];
};

/** The PagerDuty users a person holds, main user first. */
export function pagerDutyUsers(person: ScenarioPerson): PagerDutyUser[] {
  const accounts = person.pagerduty as PersonAccounts;
  return [
    { id: accounts.userId, email: accounts.email ?? person.email, person, main: true },
    ...(accounts.otherUsers ?? []).map((u) => ({ id: u.userId, email: u.email, person, main: false })),
  ];
}

export interface Reference {
  id: string;
  type: string;
  summary: string;
  self: string;
  html_url: string;
}

/** PagerDuty timestamps in REST responses: ISO 8601 in UTC, whole seconds. */
export function pdTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A stable PagerDuty-looking id (`P` and upper-case letters and digits) derived from text. */
export function stableId(text: string, length = 7, prefix = 'P'): string {
  const chars = 'ABCDEFGHJKLMNPQRSTUVWXYZ0123456789';
  const bytes = createHash('sha256').update(text).digest();
  let id = prefix;
  for (let i = 0; id.length < length; i++) id += chars[(bytes[i % bytes.length] ?? 0) % chars.length];
  return id;
}

export class Directory {
  /** The web app's base, e.g. `https://example.pagerduty.com`. */
  readonly webBase: string;
  /** Every PagerDuty user of the account, people's main users first in scenario order. */
  readonly users: PagerDutyUser[] = [];
  private readonly byUserId = new Map<string, PagerDutyUser>();
  private readonly byPersonId = new Map<string, ScenarioPerson>();
  private readonly byUserEmail = new Map<string, PagerDutyUser>();
  private readonly byPersonEmail = new Map<string, ScenarioPerson>();
  private readonly mainUsers = new Map<ScenarioPerson, PagerDutyUser>();

  constructor(
    readonly scenario: Scenario,
    /** The REST API's base URL (the stand-in's), for `self` links. */
    private readonly apiBase: () => string,
  ) {
    this.webBase = `https://${scenario.company.domain.split('.')[0] ?? 'sandbox'}.pagerduty.com`;
    const all = scenario.people.map(pagerDutyUsers);
    for (const user of [...all.map((u) => u.slice(0, 1)), ...all.map((u) => u.slice(1))].flat()) {
      if (this.byUserId.has(user.id)) throw new Error(`two PagerDuty users have the id ${user.id}`);
      const email = user.email.toLowerCase();
      if (this.byUserEmail.has(email)) throw new Error(`two PagerDuty users have the email ${user.email}`);
      this.users.push(user);
      this.byUserId.set(user.id, user);
      this.byUserEmail.set(email, user);
      if (user.main) this.mainUsers.set(user.person, user);
    }
    for (const p of scenario.people) {
      this.byPersonId.set(p.id, p);
      this.byPersonEmail.set(p.email.toLowerCase(), p);
    }
  }

  get people(): ScenarioPerson[] {
    return this.scenario.people;
  }

  get services(): ScenarioService[] {
    return this.scenario.pagerduty.services;
  }

  get policies(): ScenarioPolicy[] {
    return this.scenario.pagerduty.escalationPolicies;
  }

  get schedules(): ScenarioSchedule[] {
    return this.scenario.pagerduty.schedules;
  }

  /** A PagerDuty user by id (any of a person's users). */
  userById(userId: string): PagerDutyUser | undefined {
    return this.byUserId.get(userId);
  }

  /** A PagerDuty user by its login email, as the `From` header names it; a person's other address is not one. */
  userByEmail(email: string): PagerDutyUser | undefined {
    return this.byUserEmail.get(email.trim().toLowerCase());
  }

  /** The person's main PagerDuty user: the one schedules and escalation policies put on call. */
  mainUser(person: ScenarioPerson): PagerDutyUser {
    const user = this.mainUsers.get(person);
    if (!user) throw new Error(`${person.id} is not a person of this scenario`);
    return user;
  }

  /**
   * A PagerDuty user named the way the control API names people: a scenario id
   * or the person's email (their main user), or a PagerDuty user id or login
   * email (that very user).
   */
  resolveUser(handle: string): PagerDutyUser | undefined {
    const person = this.byPersonId.get(handle) ?? this.byPersonEmail.get(handle.trim().toLowerCase());
    return person ? this.mainUser(person) : (this.userById(handle) ?? this.userByEmail(handle));
  }

  /** A person by scenario id (`maria`), email, or the id or email of any of their PagerDuty users. */
  person(idOrEmail: string): ScenarioPerson | undefined {
    return this.resolveUser(idOrEmail)?.person;
  }

  personByScenarioId(id: string): ScenarioPerson | undefined {
    return this.byPersonId.get(id);
  }

  service(id: string): ScenarioService | undefined {
    return this.services.find((s) => s.id === id);
  }

  policy(id: string): ScenarioPolicy | undefined {
    return this.policies.find((p) => p.id === id);
  }

  schedule(id: string): ScenarioSchedule | undefined {
    return this.schedules.find((s) => s.id === id);
  }

  ref(collection: string, type: string, id: string, summary: string): Reference {
    return {
      id,
      type,
      summary,
      self: `${this.apiBase()}/${collection}/${id}`,
      html_url: `${this.webBase}/${collection}/${id}`,
    };
  }

  /** A reference to a PagerDuty user; a person stands for their main user. */
  userRef(who: ScenarioPerson | PagerDutyUser): Reference {
    const user = 'person' in who ? who : this.mainUser(who);
    return this.ref('users', 'user_reference', user.id, user.person.name);
  }

  serviceRef(service: ScenarioService): Reference {
    return this.ref('services', 'service_reference', service.id, service.name);
  }

  policyRef(policy: ScenarioPolicy): Reference {
    return this.ref('escalation_policies', 'escalation_policy_reference', policy.id, policy.name);
  }

  scheduleRef(schedule: ScenarioSchedule): Reference {
    return this.ref('schedules', 'schedule_reference', schedule.id, schedule.name);
  }

  user(user: PagerDutyUser): Record<string, unknown> {
    const { person } = user;
    return {
      ...this.userRef(user),
      type: 'user',
      name: person.name,
      email: user.email,
      time_zone: 'UTC',
      color: 'purple',
      role: 'user',
      avatar_url: `https://secure.gravatar.com/avatar/${createHash('md5').update(user.email.toLowerCase()).digest('hex')}.png?d=mm&r=PG`,
      description: '',
      invitation_sent: false,
      job_title: person.title,
      teams: [],
      contact_methods: [],
      notification_rules: [],
      coordinated_incidents: [],
    };
  }

  serviceObject(service: ScenarioService): Record<string, unknown> {
    const policy = this.policy(service.escalationPolicy);
    return {
      ...this.serviceRef(service),
      type: 'service',
      name: service.name,
      description: '',
      auto_resolve_timeout: null,
      acknowledgement_timeout: null,
      created_at: pdTime(this.scenario.start),
      status: 'active',
      last_incident_timestamp: null,
      alert_creation: 'create_alerts_and_incidents',
      incident_urgency_rule: { type: 'constant', urgency: 'high' },
      escalation_policy: policy ? this.policyRef(policy) : null,
      teams: [],
      integrations: [],
    };
  }

  policyObject(policy: ScenarioPolicy): Record<string, unknown> {
    return {
      ...this.policyRef(policy),
      type: 'escalation_policy',
      name: policy.name,
      description: '',
      num_loops: 0,
      on_call_handoff_notifications: 'if_has_services',
      escalation_rules: policy.rules.map((rule, i) => ({
        id: stableId(`rule:${policy.id}:${i}`),
        escalation_delay_in_minutes: rule.delayMinutes,
        targets: rule.targets.map((t) => this.targetRef(t)),
      })),
      services: this.services.filter((s) => s.escalationPolicy === policy.id).map((s) => this.serviceRef(s)),
      teams: [],
    };
  }

  scheduleObject(schedule: ScenarioSchedule): Record<string, unknown> {
    const { rotation } = schedule;
    const people = rotation.people.map((id) => this.personByScenarioId(id)).filter((p) => p !== undefined);
    return {
      ...this.scheduleRef(schedule),
      type: 'schedule',
      name: schedule.name,
      description: '',
      time_zone: schedule.timeZone,
      escalation_policies: this.policies
        .filter((p) => p.rules.some((r) => r.targets.includes(`schedule:${schedule.id}`)))
        .map((p) => this.policyRef(p)),
      users: people.map((p) => this.userRef(p)),
      teams: [],
      schedule_layers: [
        {
          id: stableId(`layer:${schedule.id}`),
          name: 'Layer 1',
          start: pdTime(rotation.start),
          end: null,
          rotation_virtual_start: pdTime(rotation.start),
          rotation_turn_length_seconds: rotation.shiftHours * 3600,
          users: people.map((p) => ({ user: this.userRef(p) })),
          restrictions: [],
        },
      ],
    };
  }

  /** An escalation rule's target (`schedule:<id>` or `user:<person id>`) as a reference. */
  targetRef(target: string): Reference {
    const [kind, id = ''] = target.split(':');
    if (kind === 'schedule') {
      const schedule = this.schedule(id);
      if (schedule) return this.scheduleRef(schedule);
    } else {
      const person = this.personByScenarioId(id);
      if (person) return this.userRef(person);
    }
    throw new Error(`unknown escalation target ${target}`);
  }
}
