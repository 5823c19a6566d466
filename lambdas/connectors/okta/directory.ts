// Directory on Okta: who a requester is, what they hold and how they sign in,
// for the approver's page. Reads only; every result is validated (shapes.ts)
// and every failure becomes an UpstreamError or NotFoundError (errors.ts).

import type okta from '@okta/okta-sdk-nodejs';
import type { DirectoryProfile, DirectoryUser } from '../../core/context';
import { NotFoundError, UpstreamError, ValidationError } from '../../core/errors';
import { sameAddress } from '../../core/decide/identity';
import { PROFILE_ATTRIBUTE } from '../../core/people';
import { type Clock, type Directory, systemClock } from '../../core/ports';
import { callOkta, orNotFound } from './errors';
import { toDirectoryUser, toFactor, toGroup, toMemberId, toSignIn } from './shapes';

export interface OktaDirectoryOptions {
  /** Built by createOktaClient (timeouts, retries, no cache). */
  client: okta.Client;
  /** At most this many sign-ins per profile, the newest. */
  maxSignIns: number;
  /** At most this many peers: the manager's other reports first, then the department. */
  maxPeers?: number;
  /** The end of the sign-in window. */
  clock?: Clock;
}

const DEFAULT_MAX_PEERS = 200;
/** Okta's largest page per collection, so long lists cost few calls. */
const PAGE = { users: 200, groupMembers: 1000, logs: 1000 } as const;
/** Users sharing an email is rare; a handful is plenty to tell the login match apart. */
const EMAIL_MATCHES = 10;
/**
 * The SDK yields null for an empty page that still links to a next one, which is how a System Log
 * read without `until` polls forever. Reads here are bounded, so a run of them means a broken server.
 */
const MAX_EMPTY_PAGES = 3;

export class OktaDirectory implements Directory {
  private readonly client: okta.Client;
  private readonly maxSignIns: number;
  private readonly maxPeers: number;
  private readonly clock: Clock;

  constructor(options: OktaDirectoryOptions) {
    if (!Number.isInteger(options.maxSignIns) || options.maxSignIns < 1) {
      throw new RangeError(`maxSignIns must be a positive whole number, got ${options.maxSignIns}`);
    }
    const maxPeers = options.maxPeers ?? DEFAULT_MAX_PEERS;
    if (!Number.isInteger(maxPeers) || maxPeers < 1) {
      throw new RangeError(`maxPeers must be a positive whole number, got ${maxPeers}`);
    }
    this.client = options.client;
    this.maxSignIns = options.maxSignIns;
    this.maxPeers = maxPeers;
    this.clock = options.clock ?? systemClock;
  }

  /**
   * The user whose login is the address, else the only one with it as email; undefined when none.
   * Okta's `filter` compares values case-sensitively and `search` does not (but is eventually
   * consistent), so the exact filter is tried first and a search finds `Dana.Reyes@…` for `dana.reyes@…`.
   */
  async findUserByEmail(email: string): Promise<DirectoryUser | undefined> {
    const wanted = email.trim();
    if (!wanted) return undefined;
    const value = quote(wanted);
    const expression = `profile.login eq ${value} or profile.email eq ${value}`;
    const exact = await this.usersMatching('looking up a user by email', { filter: expression });
    const users =
      exact.length > 0
        ? exact
        : await this.usersMatching('searching for a user by email', { search: expression });
    const byLogin = users.filter((u) => sameAddress(u.login, wanted));
    if (byLogin.length === 1) return byLogin[0];
    const byEmail = users.filter((u) => sameAddress(u.email, wanted));
    if (byLogin.length === 0 && byEmail.length <= 1) return byEmail[0];
    // Guessing would show the approver someone else's account, or let one person pass as another.
    throw new UpstreamError(
      'okta',
      'bad-response',
      `looking up a user by email: ${users.length} users match the address and no single one has it as login`,
    );
  }

  async userById(userId: string): Promise<DirectoryUser | undefined> {
    return orNotFound(this.getUser(userId));
  }

  /** The one user whose profile attribute is exactly `value` (compared as written: ids are case-sensitive). */
  async findUserByAttribute(attribute: string, value: string): Promise<DirectoryUser | undefined> {
    if (!PROFILE_ATTRIBUTE.test(attribute)) {
      throw new ValidationError(`okta: ${JSON.stringify(attribute)} is not an Okta profile attribute name`);
    }
    const wanted = value.trim();
    if (!wanted) return undefined;
    const raw = await callOkta(`searching for the user with ${attribute}`, async () => {
      const found: unknown[] = [];
      for await (const item of await this.client.userApi.listUsers({
        search: `profile.${attribute} eq ${quote(wanted)}`,
        limit: EMAIL_MATCHES,
      })) {
        if (item === null) continue;
        // `search` ignores case; an id that differs in case is another id.
        if ((item as { profile?: Record<string, unknown> }).profile?.[attribute] === wanted) found.push(item);
        if (found.length > 1) break;
      }
      return found;
    });
    if (raw.length > 1) {
      throw new UpstreamError('okta', 'bad-response', `several users have ${attribute} = ${wanted}`);
    }
    return raw[0] === undefined ? undefined : callOkta('reading a user', async () => toDirectoryUser(raw[0]));
  }

  private async usersMatching(what: string, query: { filter: string } | { search: string }) {
    return callOkta(what, async () =>
      collect(
        await this.client.userApi.listUsers({ ...query, limit: EMAIL_MATCHES }),
        toDirectoryUser,
        EMAIL_MATCHES,
      ),
    );
  }

  async profile(userId: string, signInsSince: Date): Promise<DirectoryProfile> {
    // Checked before the reads start, as they all put the id in a URL.
    assertOktaId(userId, 'user');
    const until = this.clock.now();
    const userAndManager = this.getUser(userId).then(async (user) => {
      const managerId = user.managerId;
      // A manager who left (404) or a managerId that is not an id stays an id alone, not a failure.
      const manager =
        managerId && managerId !== user.id && isOktaId(managerId)
          ? await orNotFound(this.getUser(managerId))
          : undefined;
      return { user, manager };
    });
    const [{ user, manager }, groups, factors, signIns] = await Promise.all([
      userAndManager,
      callOkta(`listing the groups of user ${userId}`, async () =>
        collect(await this.client.userApi.listUserGroups({ userId }), toGroup),
      ),
      callOkta(`listing the factors of user ${userId}`, async () =>
        collect(await this.client.userFactorApi.listFactors({ userId }), toFactor),
      ),
      this.signIns(userId, signInsSince, until),
    ]);
    return { user, ...(manager ? { manager } : {}), groups, factors, signIns };
  }

  /**
   * Two bounded searches (Okta's `search` reaches any profile attribute; `filter` does not reach
   * managerId or department): the manager's reports and the department, each up to the cap.
   * Deactivated accounts are no one's peers.
   */
  async peersOf(user: DirectoryUser): Promise<DirectoryUser[]> {
    const searches = [
      ...(user.managerId ? [`profile.managerId eq ${quote(user.managerId)}`] : []),
      ...(user.department ? [`profile.department eq ${quote(user.department)}`] : []),
    ];
    // One more than the cap, as the user is usually among the results.
    const wanted = this.maxPeers + 1;
    const results = await Promise.all(
      searches.map((search) =>
        callOkta('searching for peers', async () =>
          collect(
            await this.client.userApi.listUsers({ search, limit: Math.min(wanted, PAGE.users) }),
            toDirectoryUser,
            wanted,
          ),
        ),
      ),
    );
    const peers = new Map<string, DirectoryUser>();
    for (const candidate of results.flat()) {
      if (peers.size >= this.maxPeers) break;
      if (candidate.id === user.id || candidate.status === 'DEPROVISIONED') continue;
      if (!peers.has(candidate.id)) peers.set(candidate.id, candidate);
    }
    return [...peers.values()];
  }

  async groupMemberIds(groupId: string): Promise<Set<string>> {
    assertOktaId(groupId, 'group');
    const ids = await callOkta(`listing the members of group ${groupId}`, async () =>
      collect(await this.client.groupApi.listGroupUsers({ groupId, limit: PAGE.groupMembers }), toMemberId),
    );
    return new Set(ids);
  }

  private async getUser(userId: string): Promise<DirectoryUser> {
    assertOktaId(userId, 'user');
    return callOkta(`reading user ${userId}`, async () =>
      toDirectoryUser(await this.client.userApi.getUser({ userId })),
    );
  }

  /** Newest first. `until` is always set: without it Okta treats the read as polling and it never ends. */
  private async signIns(userId: string, since: Date, until: Date) {
    if (since.getTime() >= until.getTime()) return [];
    return callOkta(`reading the sign-ins of user ${userId}`, async () =>
      collect(
        await this.client.systemLogApi.listLogEvents({
          since: since.toISOString(),
          until: until.toISOString(),
          filter: `eventType eq "user.session.start" and actor.id eq ${quote(userId)}`,
          sortOrder: 'DESCENDING',
          limit: Math.min(this.maxSignIns, PAGE.logs),
        }),
        (event) => toSignIn(event, userId),
        this.maxSignIns,
      ),
    );
  }
}

/**
 * Okta ids are letters and digits. Ids go into URL paths, where an empty one or `..` would reach
 * another endpoint (GET /api/v1/users/ lists everyone), so anything else is refused before a call.
 */
function isOktaId(value: string): boolean {
  return /^[A-Za-z0-9]{1,64}$/.test(value);
}

function assertOktaId(value: string, kind: 'user' | 'group'): void {
  if (!isOktaId(value)) throw new NotFoundError(`okta: ${JSON.stringify(value)} is not an Okta ${kind} id`);
}

/** A string literal for Okta's filter and search expressions; the value cannot end it early. */
function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * Reads a collection page by page, mapping each item (undefined drops it), and stops fetching
 * once `max` items are in.
 */
async function collect<T, R>(
  collection: AsyncIterable<T | null>,
  map: (item: T) => R | undefined,
  max = Number.POSITIVE_INFINITY,
): Promise<R[]> {
  const results: R[] = [];
  if (max < 1) return results;
  let emptyPages = 0;
  for await (const item of collection) {
    if (item === null) {
      emptyPages += 1;
      if (emptyPages > MAX_EMPTY_PAGES) {
        throw new UpstreamError('okta', 'bad-response', 'Okta kept answering with empty pages');
      }
      continue;
    }
    const mapped = map(item);
    if (mapped === undefined) continue;
    results.push(mapped);
    if (results.length >= max) break;
  }
  return results;
}
