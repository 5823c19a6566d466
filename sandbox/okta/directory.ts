// The Okta org the stand-in serves: users, groups, memberships, MFA factors and
// the System Log, built from the scenario and changed by the API (membership)
// and the control methods (user status). Rendering to Okta's JSON shapes lives
// here too, so the routes only select and paginate.

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { SandboxClock } from '../clock';
import type { Scenario, ScenarioPerson } from '../scenario/load';
import type { OKTA_FACTOR_TYPES, OKTA_STATUSES } from '../scenario/schema';

export type OktaStatus = (typeof OKTA_STATUSES)[number];
export type FactorType = (typeof OKTA_FACTOR_TYPES)[number];

export interface OktaUser {
  id: string;
  person: ScenarioPerson;
  status: OktaStatus;
  created: Date;
  activated: Date | null;
  statusChanged: Date | null;
  lastUpdated: Date;
  passwordChanged: Date | null;
  profile: Record<string, string | null>;
  factors: OktaFactor[];
}

export interface OktaFactor {
  id: string;
  factorType: FactorType;
  created: Date;
}

/** How the person answers an Okta Verify push (the scenario's `okta.push`). */
export type PushAnswer = ScenarioPerson['okta']['push'];

/**
 * A push challenge sent to a user's Okta Verify: WAITING until the person answers (`answerAt`, on the
 * sandbox clock) or until it expires (`expiresAt`), whichever comes first.
 */
export interface PushTransaction {
  id: string;
  userId: string;
  factorId: string;
  created: Date;
  expiresAt: Date;
  answer: PushAnswer;
  /** When the person taps accept or reject; never for `ignore`. */
  answerAt: Date | null;
}

export type PushTransactionResult = 'WAITING' | 'SUCCESS' | 'REJECTED' | 'TIMEOUT';

export interface OktaGroup {
  id: string;
  name: string;
  description: string;
  type: 'OKTA_GROUP' | 'BUILT_IN';
  created: Date;
  lastUpdated: Date;
  lastMembershipUpdated: Date;
}

/** A System Log event as Okta serialises it, plus its publish time for sorting. */
export interface LogEventRecord {
  publishedMs: number;
  event: Record<string, unknown> & { uuid: string; published: string; eventType: string };
}

/** Where an API call came from, for the events it causes. */
export interface RequestOrigin {
  userAgent: string;
  ip: string;
}

/** Who the API token acts as; System Log events made through the API name it as their actor. */
export interface OktaActor {
  id: string;
  type: string;
  alternateId: string;
  displayName: string;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** How long after a push the scenario's person takes to accept or reject it. */
export const PUSH_ANSWER_DELAY_MS = 5_000;

/** Okta ids are 20 characters: a three-character prefix then 17 letters and digits. */
function oktaId(prefix: string, seed: string): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const bytes = createHash('sha256').update(seed).digest();
  return prefix + Array.from(bytes.subarray(0, 17), (b) => chars[b % chars.length]).join('');
}

/** A stable UUID for a scenario event, so the same scenario always yields the same log. */
function stableUuid(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const FACTOR_PREFIX: Record<FactorType, string> = {
  push: 'opf',
  'token:software:totp': 'ost',
  webauthn: 'fwf',
  sms: 'mbl',
  call: 'clf',
  email: 'emf',
  u2f: 'fuf',
};

/** Region and coordinates of the scenario's cities, as Okta's geolocation reports them. */
const CITIES: Record<string, { state: string; lat: number; lon: number }> = {
  Seattle: { state: 'Washington', lat: 47.6062, lon: -122.3321 },
  Portland: { state: 'Oregon', lat: 45.5152, lon: -122.6784 },
  Lisbon: { state: 'Lisbon', lat: 38.7223, lon: -9.1393 },
  Bengaluru: { state: 'Karnataka', lat: 12.9716, lon: 77.5946 },
  Tokyo: { state: 'Tokyo', lat: 35.6762, lon: 139.6503 },
  'São Paulo': { state: 'Sao Paulo', lat: -23.5505, lon: -46.6333 },
  London: { state: 'England', lat: 51.5072, lon: -0.1276 },
  Prague: { state: 'Prague', lat: 50.0755, lon: 14.4378 },
  Austin: { state: 'Texas', lat: 30.2672, lon: -97.7431 },
  Toronto: { state: 'Ontario', lat: 43.6532, lon: -79.3832 },
  Berlin: { state: 'Land Berlin', lat: 52.52, lon: 13.405 },
  Sofia: { state: 'Sofia-Capital', lat: 42.6977, lon: 23.3219 },
  'Rio de Janeiro': { state: 'Rio de Janeiro', lat: -22.9068, lon: -43.1729 },
  Munich: { state: 'Bavaria', lat: 48.1351, lon: 11.582 },
  'New York': { state: 'New York', lat: 40.7128, lon: -74.006 },
};

/** "Chrome 129 on Mac OS X" → the System Log's client.userAgent and device. */
export function describeClient(device: string): {
  userAgent: { rawUserAgent: string; os: string; browser: string };
  device: string;
} {
  const match = /^(\S+)\s+(\d+)\s+on\s+(.+)$/.exec(device);
  const browserName = match?.[1] ?? 'Unknown';
  const version = match?.[2] ?? '0';
  const os = match?.[3] ?? 'Unknown';
  const mobile = /android|ios|iphone/i.test(os);
  const platform = /mac/i.test(os)
    ? 'Macintosh; Intel Mac OS X 10_15_7'
    : /windows/i.test(os)
      ? 'Windows NT 10.0; Win64; x64'
      : /android/i.test(os)
        ? 'Linux; Android 14; K'
        : /ios|iphone/i.test(os)
          ? 'iPhone; CPU iPhone OS 17_0 like Mac OS X'
          : 'X11; Linux x86_64';
  const webkit = `Mozilla/5.0 (${platform}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/${version}.0.0.0${mobile ? ' Mobile' : ''} Safari/537.36`;
  const raw: Record<string, string> = {
    Chrome: webkit,
    Edge: `${webkit} Edg/${version}.0.0.0`,
    Firefox: `Mozilla/5.0 (${platform}; rv:${version}.0) Gecko/20100101 Firefox/${version}.0`,
    Safari: `Mozilla/5.0 (${platform}) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/${version}.0 Safari/605.1.15`,
  };
  const browser: Record<string, string> = {
    Chrome: 'CHROME',
    Edge: 'EDGE_CHROMIUM',
    Firefox: 'FIREFOX',
    Safari: 'SAFARI',
  };
  return {
    userAgent: { rawUserAgent: raw[browserName] ?? device, os, browser: browser[browserName] ?? 'UNKNOWN' },
    device: mobile ? 'Mobile' : 'Computer',
  };
}

/** A login as Okta compares logins: without regard to case or diacritical marks. */
function foldLogin(login: string): string {
  return login.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

/** The random part of a push transaction id (Okta's look like `v2mst.GldKV5VxTrifyeZmWSQguA`). */
function pushTransactionSuffix(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(22), (b) => chars[b % chars.length]).join('');
}

function splitName(name: string): { firstName: string; lastName: string } {
  const parts = name.trim().split(/\s+/);
  if (parts.length === 1) return { firstName: parts[0] ?? name, lastName: parts[0] ?? name };
  return { firstName: parts.slice(0, -1).join(' '), lastName: parts[parts.length - 1] ?? '' };
}

export class OktaDirectory {
  readonly users: OktaUser[] = [];
  readonly groups: OktaGroup[] = [];
  /** Group id → member user ids, in the order they joined. */
  readonly members = new Map<string, string[]>();
  readonly events: LogEventRecord[] = [];
  /** Push challenges by transaction id. */
  readonly pushes = new Map<string, PushTransaction>();

  constructor(
    readonly scenario: Scenario,
    private readonly clock: SandboxClock,
    readonly actor: OktaActor,
  ) {
    const now = clock.now().getTime();
    const byPerson = new Map(scenario.people.map((p) => [p.id, p]));
    const orgCreated = new Date(Math.min(...scenario.people.map((p) => p.okta.created.getTime())) - DAY);

    for (const g of scenario.okta.groups) {
      this.groups.push({
        id: g.id,
        name: g.name,
        description: g.description,
        type: g.name === 'Everyone' ? 'BUILT_IN' : 'OKTA_GROUP',
        created: orgCreated,
        lastUpdated: orgCreated,
        lastMembershipUpdated: orgCreated,
      });
      this.members.set(g.id, []);
    }

    for (const person of scenario.people) {
      const { status, created } = person.okta;
      const staged = status === 'STAGED' || status === 'PROVISIONED';
      const activated = staged ? null : new Date(created.getTime() + HOUR);
      const successes = person.okta.signIns.filter((s) => s.outcome === 'SUCCESS' && s.at.getTime() <= now);
      const lastLogin = successes.reduce<Date | null>(
        (latest, s) => (!latest || s.at > latest ? s.at : latest),
        null,
      );
      // The scenario gives no date for a status change: place it a day after the last sign-in.
      const statusChanged =
        status === 'ACTIVE' || staged
          ? activated
          : new Date(Math.min(now, (lastLogin ?? activated ?? created).getTime() + DAY));
      const manager = person.manager ? byPerson.get(person.manager) : undefined;
      const { firstName, lastName } = splitName(person.name);
      this.users.push({
        id: person.okta.id,
        person,
        status,
        created,
        activated,
        statusChanged,
        lastUpdated: statusChanged ?? created,
        passwordChanged: activated,
        profile: {
          firstName,
          lastName,
          displayName: person.name,
          login: person.okta.login ?? person.email,
          email: person.email,
          secondEmail: null,
          mobilePhone: null,
          title: person.title,
          department: person.department,
          organization: scenario.company.name,
          manager: manager?.name ?? null,
          managerId: manager?.okta.id ?? null,
          // Extra and custom attributes (e.g. atlassianAccountId) sit in the same profile object.
          ...person.okta.profile,
        },
        factors: person.okta.factors.map((factorType) => ({
          id: oktaId(FACTOR_PREFIX[factorType], `${person.id}:${factorType}`),
          factorType,
          created: new Date(created.getTime() + DAY),
        })),
      });
      for (const groupId of person.okta.groups) this.members.get(groupId)?.push(person.okta.id);
      person.okta.signIns.forEach((signIn, index) =>
        this.events.push(this.signInEvent(person, signIn, index)),
      );
    }
    this.sortEvents();
  }

  /**
   * A user by id (exact), login or unambiguous login shortname. Okta treats logins that differ only in
   * case or diacritical marks as the same login, so those compare folded. Logins holding a `/` can
   * only be fetched by id.
   */
  findUser(idOrLogin: string): OktaUser | undefined {
    const byId = this.findUserById(idOrLogin);
    if (byId) return byId;
    const wanted = foldLogin(idOrLogin);
    const reachable = this.users.filter((u) => u.profile.login && !u.profile.login.includes('/'));
    const exact = reachable.find((u) => foldLogin(u.profile.login ?? '') === wanted);
    if (exact) return exact;
    // A login shortname (the part before @) works when it is unambiguous.
    const short = reachable.filter((u) => foldLogin(u.profile.login ?? '').split('@')[0] === wanted);
    return short.length === 1 ? short[0] : undefined;
  }

  /** A user by id only, as the paths that take a `userId` (factors, memberships) need. */
  findUserById(id: string): OktaUser | undefined {
    return this.users.find((u) => u.id === id);
  }

  findGroup(id: string): OktaGroup | undefined {
    return this.groups.find((g) => g.id === id);
  }

  groupsOf(userId: string): OktaGroup[] {
    return this.groups.filter((g) => this.members.get(g.id)?.includes(userId));
  }

  lastLogin(user: OktaUser): Date | null {
    const now = this.clock.now().getTime();
    let latest: Date | null = null;
    for (const s of user.person.okta.signIns) {
      if (s.outcome === 'SUCCESS' && s.at.getTime() <= now && (!latest || s.at > latest)) latest = s.at;
    }
    return latest;
  }

  /** Adds a member; false when the user already was one (Okta answers 204 either way and logs nothing). */
  addMember(group: OktaGroup, user: OktaUser, origin?: RequestOrigin): boolean {
    const list = this.members.get(group.id) ?? [];
    if (list.includes(user.id)) return false;
    list.push(user.id);
    this.members.set(group.id, list);
    group.lastMembershipUpdated = this.clock.now();
    this.logMembership('group.user_membership.add', 'Add user to group membership', group, user, origin);
    return true;
  }

  removeMember(group: OktaGroup, user: OktaUser, origin?: RequestOrigin): boolean {
    const list = this.members.get(group.id) ?? [];
    const index = list.indexOf(user.id);
    if (index < 0) return false;
    list.splice(index, 1);
    group.lastMembershipUpdated = this.clock.now();
    this.logMembership(
      'group.user_membership.remove',
      'Remove user from group membership',
      group,
      user,
      origin,
    );
    return true;
  }

  setStatus(user: OktaUser, status: OktaStatus): void {
    if (user.status === status) return;
    const previous = user.status;
    const now = this.clock.now();
    user.status = status;
    user.statusChanged = now;
    user.lastUpdated = now;
    if (status === 'ACTIVE' && !user.activated) user.activated = now;
    const eventType =
      status === 'SUSPENDED'
        ? 'user.lifecycle.suspend'
        : status === 'DEPROVISIONED'
          ? 'user.lifecycle.deactivate'
          : status === 'LOCKED_OUT'
            ? 'user.account.lock'
            : status === 'ACTIVE' && previous === 'SUSPENDED'
              ? 'user.lifecycle.unsuspend'
              : status === 'ACTIVE' && previous === 'LOCKED_OUT'
                ? 'user.account.unlock'
                : 'user.lifecycle.activate';
    this.record(eventType, `User status changed to ${status}`, this.actorJson(), [this.userTarget(user)]);
  }

  /** Sends a push to `factor`; the person answers per their scenario script. */
  startPush(user: OktaUser, factor: OktaFactor, lifetimeMs: number): PushTransaction {
    const created = this.clock.now();
    const answer = user.person.okta.push;
    const transaction: PushTransaction = {
      id: `v2mst.${pushTransactionSuffix()}`,
      userId: user.id,
      factorId: factor.id,
      created,
      expiresAt: new Date(created.getTime() + lifetimeMs),
      answer,
      answerAt: answer === 'ignore' ? null : new Date(created.getTime() + PUSH_ANSWER_DELAY_MS),
    };
    this.pushes.set(transaction.id, transaction);
    return transaction;
  }

  /** Where a push stands at the sandbox clock's now: an answer given before expiry wins, else TIMEOUT. */
  pushResult(transaction: PushTransaction): PushTransactionResult {
    const now = this.clock.now().getTime();
    const { answerAt, expiresAt } = transaction;
    if (answerAt && answerAt.getTime() <= now && answerAt.getTime() < expiresAt.getTime()) {
      return transaction.answer === 'reject' ? 'REJECTED' : 'SUCCESS';
    }
    return now >= expiresAt.getTime() ? 'TIMEOUT' : 'WAITING';
  }

  renderUser(user: OktaUser, baseUrl: string): Record<string, unknown> {
    const self = `${baseUrl}/api/v1/users/${user.id}`;
    const lifecycle = (action: string) => ({ href: `${self}/lifecycle/${action}`, method: 'POST' });
    const links: Record<string, unknown> = { self: { href: self } };
    if (user.status === 'ACTIVE') {
      Object.assign(links, {
        suspend: lifecycle('suspend'),
        resetPassword: lifecycle('reset_password'),
        expirePassword: lifecycle('expire_password'),
        deactivate: lifecycle('deactivate'),
      });
    } else if (user.status === 'SUSPENDED') {
      Object.assign(links, { unsuspend: lifecycle('unsuspend'), deactivate: lifecycle('deactivate') });
    } else if (user.status === 'LOCKED_OUT') {
      Object.assign(links, { unlock: lifecycle('unlock'), deactivate: lifecycle('deactivate') });
    } else if (user.status === 'STAGED' || user.status === 'PROVISIONED') {
      Object.assign(links, { activate: lifecycle('activate'), deactivate: lifecycle('deactivate') });
    }
    const lastLogin = this.lastLogin(user);
    return {
      id: user.id,
      status: user.status,
      created: user.created.toISOString(),
      activated: user.activated?.toISOString() ?? null,
      statusChanged: user.statusChanged?.toISOString() ?? null,
      lastLogin: lastLogin?.toISOString() ?? null,
      lastUpdated: user.lastUpdated.toISOString(),
      passwordChanged: user.passwordChanged?.toISOString() ?? null,
      type: { id: oktaId('oty', 'default-user-type') },
      profile: { ...user.profile },
      credentials: {
        password: {},
        emails: [{ value: user.profile.email, status: 'VERIFIED', type: 'PRIMARY' }],
        provider: { type: 'OKTA', name: 'OKTA' },
      },
      _links: links,
    };
  }

  renderGroup(group: OktaGroup, baseUrl: string): Record<string, unknown> {
    const self = `${baseUrl}/api/v1/groups/${group.id}`;
    return {
      id: group.id,
      created: group.created.toISOString(),
      lastUpdated: group.lastUpdated.toISOString(),
      lastMembershipUpdated: group.lastMembershipUpdated.toISOString(),
      objectClass: ['okta:user_group'],
      type: group.type,
      profile: { name: group.name, description: group.description },
      _links: {
        logo: [
          { name: 'medium', href: `${baseUrl}/assets/img/logos/groups/okta-medium.png`, type: 'image/png' },
          { name: 'large', href: `${baseUrl}/assets/img/logos/groups/okta-large.png`, type: 'image/png' },
        ],
        users: { href: `${self}/users` },
        apps: { href: `${self}/apps` },
      },
    };
  }

  renderFactor(user: OktaUser, factor: OktaFactor, baseUrl: string): Record<string, unknown> {
    const self = `${baseUrl}/api/v1/users/${user.id}/factors/${factor.id}`;
    const email = user.profile.email ?? '';
    const login = user.profile.login ?? email;
    const phone = `+1-555-01${String(this.users.indexOf(user)).padStart(2, '0')}`;
    const byType: Record<
      FactorType,
      { provider: string; vendorName: string; profile: Record<string, unknown> }
    > = {
      push: {
        provider: 'OKTA',
        vendorName: 'OKTA',
        profile: {
          credentialId: login,
          deviceType: 'SmartPhone_IPhone',
          name: `${user.profile.firstName ?? ''}'s iPhone`,
          platform: 'IOS',
          version: '17.0',
        },
      },
      'token:software:totp': { provider: 'OKTA', vendorName: 'OKTA', profile: { credentialId: login } },
      webauthn: {
        provider: 'FIDO',
        vendorName: 'FIDO',
        profile: { credentialId: oktaId('', `${factor.id}:cred`), authenticatorName: 'Security Key' },
      },
      u2f: {
        provider: 'FIDO',
        vendorName: 'FIDO',
        profile: { credentialId: oktaId('', `${factor.id}:cred`) },
      },
      sms: { provider: 'OKTA', vendorName: 'OKTA', profile: { phoneNumber: phone } },
      call: { provider: 'OKTA', vendorName: 'OKTA', profile: { phoneNumber: phone } },
      email: { provider: 'OKTA', vendorName: 'OKTA', profile: { email } },
    };
    const detail = byType[factor.factorType];
    return {
      id: factor.id,
      factorType: factor.factorType,
      provider: detail.provider,
      vendorName: detail.vendorName,
      status: 'ACTIVE',
      created: factor.created.toISOString(),
      lastUpdated: factor.created.toISOString(),
      profile: detail.profile,
      _links: {
        self: { href: self, hints: { allow: ['GET', 'DELETE'] } },
        user: { href: `${baseUrl}/api/v1/users/${user.id}`, hints: { allow: ['GET'] } },
      },
    };
  }

  /** Events already published at the sandbox clock's now, in publish order. */
  publishedEvents(): LogEventRecord[] {
    const now = this.clock.now().getTime();
    return this.events.filter((e) => e.publishedMs <= now);
  }

  private signInEvent(
    person: ScenarioPerson,
    signIn: ScenarioPerson['okta']['signIns'][number],
    index: number,
  ): LogEventRecord {
    const city = CITIES[signIn.city];
    const geographicalContext = {
      city: signIn.city,
      state: city?.state ?? null,
      country: signIn.country,
      postalCode: null,
      geolocation: city ? { lat: city.lat, lon: city.lon } : null,
    };
    const client = describeClient(signIn.device);
    const success = signIn.outcome === 'SUCCESS';
    const uuid = stableUuid(`signin:${person.id}:${index}:${signIn.at.toISOString()}`);
    return {
      publishedMs: signIn.at.getTime(),
      event: {
        uuid,
        published: signIn.at.toISOString(),
        eventType: 'user.session.start',
        version: '0',
        displayMessage: 'User login to Okta',
        severity: success ? 'INFO' : 'WARN',
        legacyEventType: success ? 'core.user_auth.login_success' : 'core.user_auth.login_failed',
        outcome: success
          ? { result: 'SUCCESS', reason: null }
          : { result: 'FAILURE', reason: 'INVALID_CREDENTIALS' },
        actor: {
          id: person.okta.id,
          type: 'User',
          alternateId: person.okta.login ?? person.email,
          displayName: person.name,
          detailEntry: null,
        },
        client: {
          userAgent: client.userAgent,
          zone: 'null',
          device: client.device,
          id: null,
          ipAddress: signIn.ip,
          geographicalContext,
        },
        authenticationContext: {
          authenticationProvider: null,
          credentialProvider: null,
          credentialType: null,
          issuer: null,
          interface: null,
          authenticationStep: 0,
          externalSessionId: `102${uuid.replace(/-/g, '').slice(0, 22)}`,
        },
        securityContext: { asNumber: null, asOrg: null, isp: null, domain: null, isProxy: false },
        debugContext: { debugData: { requestUri: '/idp/idx/authenticate', url: '/idp/idx/authenticate?' } },
        transaction: { type: 'WEB', id: uuid.replace(/-/g, '').slice(0, 27), detail: {} },
        request: {
          ipChain: [
            {
              ip: signIn.ip,
              geographicalContext,
              version: signIn.ip.includes(':') ? 'V6' : 'V4',
              source: null,
            },
          ],
        },
        target: [],
      },
    };
  }

  private actorJson(): Record<string, unknown> {
    return { ...this.actor, detailEntry: null };
  }

  private userTarget(user: OktaUser): Record<string, unknown> {
    return {
      id: user.id,
      type: 'User',
      alternateId: user.profile.login,
      displayName: user.profile.displayName,
      detailEntry: null,
    };
  }

  private logMembership(
    eventType: string,
    message: string,
    group: OktaGroup,
    user: OktaUser,
    origin: RequestOrigin | undefined,
  ): void {
    this.record(
      eventType,
      message,
      this.actorJson(),
      [
        this.userTarget(user),
        {
          id: group.id,
          type: 'UserGroup',
          alternateId: 'unknown',
          displayName: group.name,
          detailEntry: null,
        },
      ],
      origin,
    );
  }

  private record(
    eventType: string,
    displayMessage: string,
    actor: Record<string, unknown>,
    target: Record<string, unknown>[],
    origin: RequestOrigin = { userAgent: 'unknown', ip: '127.0.0.1' },
  ): void {
    const at = this.clock.now();
    const uuid = randomUUID();
    this.events.push({
      publishedMs: at.getTime(),
      event: {
        uuid,
        published: at.toISOString(),
        eventType,
        version: '0',
        displayMessage,
        severity: 'INFO',
        legacyEventType: null,
        outcome: { result: 'SUCCESS', reason: null },
        actor,
        client: {
          userAgent: { rawUserAgent: origin.userAgent, os: 'Unknown', browser: 'UNKNOWN' },
          zone: 'null',
          device: 'Unknown',
          id: null,
          ipAddress: origin.ip,
          geographicalContext: null,
        },
        authenticationContext: { authenticationStep: 0, externalSessionId: 'trs' + uuid.slice(0, 22) },
        securityContext: { asNumber: null, asOrg: null, isp: null, domain: null, isProxy: null },
        debugContext: { debugData: {} },
        transaction: { type: 'WEB', id: uuid.replace(/-/g, '').slice(0, 27), detail: {} },
        request: { ipChain: [] },
        target,
      },
    });
    this.sortEvents();
  }

  private sortEvents(): void {
    this.events.sort((a, b) => a.publishedMs - b.publishedMs || a.event.uuid.localeCompare(b.event.uuid));
  }
}
