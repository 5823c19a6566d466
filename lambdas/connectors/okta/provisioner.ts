// The Provisioner for `okta-group` actions: a grant is a group membership,
// added only when the requester is not a member already (a membership that
// pre-existed is reported, left alone and kept at revoke). Failures become
// UpstreamError (Okta did not answer usefully) or NotFoundError (no such user
// or group), as in the rest of the Okta connector (errors.ts).

import type okta from '@okta/okta-sdk-nodejs';
import { NotFoundError, UpstreamError, ValidationError } from '../../core/errors';
import type { GrantOutcome, GrantSubject, Provisioner } from '../../core/ports';
import { callOkta, orNotFound } from './errors';
import { toDirectoryUser, toGroup } from './shapes';

export interface OktaGroupProvisionerOptions {
  /** Built by createOktaClient (timeouts, retries, no cache). */
  client: okta.Client;
}

/** Two are enough to tell "one user has this login" from "several do". */
const LOGIN_MATCHES = 2;
/** As in directory.ts: a run of empty pages means a broken server, not a long list. */
const MAX_EMPTY_PAGES = 3;

export class OktaGroupProvisioner implements Provisioner {
  private readonly client: okta.Client;

  constructor(options: OktaGroupProvisionerOptions) {
    this.client = options.client;
  }

  async grant(subject: GrantSubject): Promise<GrantOutcome> {
    const groupId = groupOf(subject);
    const userId = await this.userIdOf(subject.email);
    if (userId === undefined) {
      throw new NotFoundError(`okta: no Okta user has the login ${subject.email}`);
    }
    if (await this.isMember(userId, groupId)) {
      return { principal: userId, target: groupId, preExisting: true };
    }
    await callOkta(`adding user ${userId} to group ${groupId}`, () =>
      this.client.groupApi.assignUserToGroup({ groupId, userId }),
    );
    return { principal: userId, target: groupId, preExisting: false };
  }

  async revoke(_subject: GrantSubject, grant: GrantOutcome): Promise<void> {
    if (grant.preExisting) return;
    // The ids recorded at grant time: what was granted is what goes, even if the catalog changed since.
    const userId = oktaId(grant.principal, 'user');
    const groupId = oktaId(grant.target, 'group');
    // Okta answers 204 when the user is not a member; a 404 means the user or the group is gone,
    // and the membership with it.
    await orNotFound(
      callOkta(`removing user ${userId} from group ${groupId}`, () =>
        this.client.groupApi.unassignUserFromGroup({ groupId, userId }),
      ),
    );
  }

  async verify(subject: GrantSubject): Promise<boolean> {
    const groupId = groupOf(subject);
    const userId = await this.userIdOf(subject.email);
    // No account, no access.
    if (userId === undefined) return false;
    return this.isMember(userId, groupId);
  }

  /** The id of the user whose login is `email` (case-insensitive, as Okta compares logins). */
  private async userIdOf(email: string): Promise<string | undefined> {
    const login = email.trim();
    if (!login) throw new ValidationError('okta: the requester has no email to look up');
    const users = await callOkta('looking up a user by login', async () => {
      const found: string[] = [];
      const collection = await this.client.userApi.listUsers({
        filter: `profile.login eq ${quote(login)}`,
        limit: LOGIN_MATCHES,
      });
      await eachItem(collection, (item) => {
        const user = toDirectoryUser(item);
        if (user.login.toLowerCase() === login.toLowerCase()) found.push(user.id);
        return found.length < LOGIN_MATCHES;
      });
      return found;
    });
    if (users.length > 1) {
      // Logins are unique in Okta; anything else is a server to distrust, not a user to guess.
      throw new UpstreamError('okta', 'bad-response', `several users have the login ${login}`);
    }
    return users[0];
  }

  /** Reads the user's groups (usually fewer than the group's members) until the group turns up. */
  private async isMember(userId: string, groupId: string): Promise<boolean> {
    return callOkta(`listing the groups of user ${userId}`, async () => {
      let member = false;
      const collection = await this.client.userApi.listUserGroups({ userId });
      await eachItem(collection, (item) => {
        member = toGroup(item).id === groupId;
        return !member;
      });
      return member;
    });
  }
}

function groupOf(subject: GrantSubject): string {
  if (subject.action.kind !== 'okta-group') {
    throw new ValidationError(`okta: cannot provision a ${subject.action.kind} action`);
  }
  return oktaId(subject.action.groupId, 'group');
}

/** Ids go into URL paths, where an empty one or `..` would reach another endpoint. */
function oktaId(value: string, kind: 'user' | 'group'): string {
  if (!/^[A-Za-z0-9]{1,64}$/.test(value)) {
    throw new ValidationError(`okta: ${JSON.stringify(value)} is not an Okta ${kind} id`);
  }
  return value;
}

/** A string literal for Okta's filter expressions; the value cannot end it early. */
function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Walks a paged collection until `visit` returns false or the pages run out. */
async function eachItem<T>(collection: AsyncIterable<T | null>, visit: (item: T) => boolean): Promise<void> {
  let emptyPages = 0;
  for await (const item of collection) {
    if (item === null) {
      emptyPages += 1;
      if (emptyPages > MAX_EMPTY_PAGES) {
        throw new UpstreamError('okta', 'bad-response', 'Okta kept answering with empty pages');
      }
      continue;
    }
    if (!visit(item)) return;
  }
}
