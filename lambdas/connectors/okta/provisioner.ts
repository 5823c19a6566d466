// The Provisioner for `okta-group` actions: a grant is a group membership,
// added only when the requester is not a member already (a membership that
// pre-existed is reported and left alone). A membership is shared by every
// grant of the group to the person: the core counts them (holdings) and
// decides when it goes. Failures become
// UpstreamError (Okta did not answer usefully) or NotFoundError (no such user
// or group), as in the rest of the Okta connector (errors.ts).

import type okta from '@okta/okta-sdk-nodejs';
import { NotFoundError, UpstreamError, ValidationError } from '../../core/errors';
import type { GrantOutcome, GrantSubject, HeldAccess, Provisioner } from '../../core/ports';
import { callOkta, orNotFound } from './errors';
import { OktaDirectory } from './directory';
import { toGroup } from './shapes';

export interface OktaGroupProvisionerOptions {
  /** Built by createOktaClient (timeouts, retries, no cache). */
  client: okta.Client;
}

/** As in directory.ts: a run of empty pages means a broken server, not a long list. */
const MAX_EMPTY_PAGES = 3;

export class OktaGroupProvisioner implements Provisioner {
  private readonly client: okta.Client;

  private readonly directory: OktaDirectory;

  constructor(options: OktaGroupProvisionerOptions) {
    this.client = options.client;
    this.directory = new OktaDirectory({ client: options.client, maxSignIns: 1 });
  }

  async locate(subject: GrantSubject): Promise<HeldAccess> {
    const groupId = groupOf(subject);
    const userId = await this.userIdOf(subject);
    if (userId === undefined) {
      throw new NotFoundError(`okta: no Okta user has the login ${subject.email}`);
    }
    return { principal: userId, target: groupId };
  }

  /** One membership, whichever grants give it. */
  isShared(): boolean {
    return true;
  }

  async grant(subject: GrantSubject): Promise<GrantOutcome> {
    const { principal: userId, target: groupId } = await this.locate(subject);
    if (await this.isMember(userId, groupId)) {
      return { principal: userId, target: groupId, preExisting: true };
    }
    await callOkta(`adding user ${userId} to group ${groupId}`, () =>
      this.client.groupApi.assignUserToGroup({ groupId, userId }),
    );
    return { principal: userId, target: groupId, preExisting: false };
  }

  async revoke(grant: GrantOutcome): Promise<void> {
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

  async holds(access: HeldAccess): Promise<boolean> {
    return this.isMember(oktaId(access.principal, 'user'), oktaId(access.target, 'group'));
  }

  async verify(subject: GrantSubject): Promise<boolean> {
    const groupId = groupOf(subject);
    const userId = await this.userIdOf(subject);
    // No account, no access.
    if (userId === undefined) return false;
    return this.isMember(userId, groupId);
  }

  /**
   * The grantee's Okta id: the one intake resolved and recorded. A request recorded before ids were
   * kept is looked up by its email (login first, case as Okta ignores it).
   */
  private async userIdOf(subject: GrantSubject): Promise<string | undefined> {
    if (subject.personId !== undefined) return oktaId(subject.personId, 'user');
    if (!subject.email.trim()) throw new ValidationError('okta: the requester has no email to look up');
    return (await this.directory.findUserByEmail(subject.email))?.id;
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
