// May the author of a note decide on a request? The author is a PagerDuty
// user; they count only as the directory (Okta) person behind that user, who
// must be ACTIVE. The requester never decides on their own request (they may
// only end their own grant early), whatever account or address they write
// from: people are compared by directory id. Anyone else must meet the
// entitlement's approver rule when they wrote the note: listed in the catalog,
// on call for the owners' escalation policy, or a member of the approvers'
// Okta group. An outside service that cannot answer is not a "no": the caller
// hears that the check could not be made, and retries.

import type { Entitlement } from '../catalog';
import type { DirectoryUser } from '../context';
import { describeOnCallRule, onCallLevels, onCallVerdict } from '../on-call';
import { type IdentitySettings, personOfPagerDutyUser } from '../people';
import type { Clock, Directory, OnCall } from '../ports';
import type { CommandVerb } from './command';
import { addressProblem, sameAddress } from './identity';

export interface AuthorizeDeps {
  directory: Directory;
  onCall: OnCall;
  clock: Clock;
  identity: IdentitySettings;
}

export interface AuthorizeInput {
  verb: CommandVerb;
  /** The note's author: the PagerDuty user who wrote it. */
  author: { pagerDutyUserId: string; email: string };
  /** The requester as the request records them: the directory id (the email only on older requests). */
  requester: { directoryUserId?: string; email?: string };
  entitlement: Entitlement;
  /** When the note was written; on-call is judged at that moment (the clock's now when absent or later). */
  notedAt?: Date;
}

export type ApproverRule = 'on-call' | 'listed' | 'okta-group' | 'manager';

export type Authorization =
  /** `requester`: the requester ending their own grant, the one thing they may do. `person`: who the author is. */
  | { allowed: true; via: ApproverRule | 'requester'; person: DirectoryUser }
  /** A refusal to tell the author. */
  | { allowed: false; retryable: false; reason: string }
  /** A source could not be asked; say nothing to the author and try again later. */
  | { allowed: false; retryable: true; reason: string; cause: unknown };

/**
 * Who the author is (the directory person behind their PagerDuty user), then the requester check
 * by directory id, then the rules: listed people, PagerDuty on-call, the Okta group.
 */
export async function authorizeApprover(deps: AuthorizeDeps, input: AuthorizeInput): Promise<Authorization> {
  const { verb, author, entitlement } = input;
  const problem = addressProblem(author.email);
  if (problem) {
    return refuse(
      `${problem}, so loopgate cannot tell who wrote this note. Decisions count only from PagerDuty users ` +
        'with a plain address that matches their directory (Okta) account.',
    );
  }

  let person: DirectoryUser;
  let foundByEmail: boolean;
  let requesterId: string | undefined;
  try {
    const lookup = await personOfPagerDutyUser(deps.directory, deps.identity, {
      id: author.pagerDutyUserId,
      email: author.email,
    });
    if (!lookup.found) {
      return refuse(
        `${author.email} has no directory (Okta) account (${lookup.why}), so this note cannot count as anyone's ` +
          'decision. Ask your identity admin to link your PagerDuty user to your Okta account.',
      );
    }
    person = lookup.user;
    foundByEmail = lookup.via === 'email';
    requesterId = await requesterIdOf(deps.directory, input.requester);
  } catch (cause) {
    return unchecked(author.email, 'the directory (Okta)', cause);
  }
  if (person.status !== 'ACTIVE') {
    return refuse(
      `the directory (Okta) account ${person.login} is ${person.status}, not ACTIVE, so it cannot decide.`,
    );
  }
  if (requesterId === person.id) return asRequester(verb, person);
  if (requesterId === undefined) {
    return refuse(
      'loopgate does not know who asked for this access, so it cannot rule out that they are deciding ' +
        'their own request. Nobody can decide it by note; ask the requester to file a new ticket.',
    );
  }

  const rules = entitlement.approvers;
  if (
    !rules ||
    (!rules.onCall && rules.emails.length === 0 && rules.oktaGroup === undefined && rules.manager !== true)
  ) {
    return refuse(`${entitlement.id} has no approvers in the catalog, so nobody can ${verb} it by note.`);
  }
  const allow = (via: ApproverRule): Authorization => ({ allowed: true, via, person });

  let failure: { source: string; cause: unknown } | undefined;
  try {
    if (await isListed(deps.directory, rules.emails, person, { email: author.email, foundByEmail })) {
      return allow('listed');
    }
  } catch (cause) {
    failure = { source: 'the directory (Okta)', cause };
  }
  if (rules.manager === true) {
    try {
      // The manager the directory names for the requester, compared by Okta id (never the requester: see above).
      if ((await deps.directory.userById(requesterId))?.managerId === person.id) return allow('manager');
    } catch (cause) {
      failure ??= { source: 'the directory (Okta)', cause };
    }
  }
  if (rules.onCall) {
    try {
      const shifts = await deps.onCall.shiftsOf(
        { pagerDutyUserId: author.pagerDutyUserId },
        noteMoment(deps.clock, input.notedAt),
      );
      // A scheduled shift at the catalog's levels (level 1 by default); never a permanent target.
      const policy = entitlement.owners.escalationPolicy;
      if (onCallVerdict(shifts, policy, onCallLevels(entitlement)).counts) return allow('on-call');
    } catch (cause) {
      failure ??= { source: 'PagerDuty on-call', cause };
    }
  }
  if (rules.oktaGroup !== undefined) {
    try {
      if ((await deps.directory.groupMemberIds(rules.oktaGroup)).has(person.id)) return allow('okta-group');
    } catch (cause) {
      failure ??= { source: 'the directory (Okta)', cause };
    }
  }
  // Only a rule that could not be asked might still have said yes.
  if (failure) return unchecked(author.email, failure.source, failure.cause);
  return refuse(
    `${author.email} is not an approver for ${entitlement.id}, so cannot ${verb} this request. ` +
      `Who can: ${describeApprovers(entitlement)}.`,
  );
}

/** The requester's directory id: recorded at intake; looked up by email only for requests recorded before it was. */
async function requesterIdOf(
  directory: Directory,
  requester: AuthorizeInput['requester'],
): Promise<string | undefined> {
  if (requester.directoryUserId) return requester.directoryUserId;
  if (!requester.email) return undefined;
  return (await directory.findUserByEmail(requester.email))?.id;
}

/**
 * Whether a listed address names this person. Their Okta login names them (logins are unique), and
 * so does the address they were just found by; another address that reads like theirs (their
 * directory email, or a PagerDuty address the mapping resolved) is looked up, and only the same
 * directory id counts. A look-alike never reads like it (addresses are compared byte for byte, ASCII
 * case aside), and a sub-address is another account.
 */
async function isListed(
  directory: Directory,
  listed: readonly string[],
  person: DirectoryUser,
  author: { email: string; foundByEmail: boolean },
): Promise<boolean> {
  for (const address of listed) {
    if (sameAddress(address, person.login) || (author.foundByEmail && sameAddress(address, author.email))) {
      return true;
    }
    if (sameAddress(address, person.email) || sameAddress(address, author.email)) {
      if ((await directory.findUserByEmail(address))?.id === person.id) return true;
    }
  }
  return false;
}

function asRequester(verb: CommandVerb, person: DirectoryUser): Authorization {
  if (verb === 'revoke') return { allowed: true, via: 'requester', person };
  if (verb === 'info') {
    return refuse(
      'You asked for this access yourself; "info" is for approvers to ask you questions. ' +
        'Add what they need as a comment on the Jira ticket instead.',
    );
  }
  return refuse(
    `You asked for this access yourself, so you cannot ${verb} it; another approver must decide. ` +
      '(You may end your own access early with "revoke".)',
  );
}

function refuse(reason: string): Authorization {
  return { allowed: false, retryable: false, reason };
}

function unchecked(authorEmail: string, source: string, cause: unknown): Authorization {
  return {
    allowed: false,
    retryable: true,
    reason: `could not check whether ${authorEmail} may decide: ${source} did not answer`,
    cause,
  };
}

/** The note's time, unless it claims to be later than now (clock skew): nobody approves from the future. */
function noteMoment(clock: Clock, notedAt: Date | undefined): Date {
  const now = clock.now();
  return notedAt && !Number.isNaN(notedAt.getTime()) && notedAt < now ? notedAt : now;
}

export function describeApprovers(entitlement: Entitlement): string {
  const rules = entitlement.approvers;
  const who = [
    ...(rules?.onCall
      ? [describeOnCallRule(entitlement.owners.escalationPolicy, onCallLevels(entitlement))]
      : []),
    ...(rules && rules.emails.length > 0 ? [rules.emails.join(', ')] : []),
    ...(rules?.oktaGroup ? [`members of Okta group ${rules.oktaGroup}`] : []),
    ...(rules?.manager === true ? ["the requester's manager (as the directory names them)"] : []),
  ];
  return who.length === 0 ? 'nobody' : who.join('; or ');
}
