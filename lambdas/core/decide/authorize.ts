// May the author of a note decide on a request? The requester never decides on
// their own request (they may only end their own grant early). Anyone else must
// meet the entitlement's approver rule when they wrote the note: listed by
// email, on call for the owners' escalation policy, or a member of the
// approvers' Okta group. An outside service that cannot answer is not a "no":
// the caller hears that the check could not be made, and retries.

import type { Entitlement } from '../catalog';
import type { Clock, Directory, OnCall } from '../ports';
import type { CommandVerb } from './command';
import { mailboxOf, normaliseAddress } from './identity';

export interface AuthorizeDeps {
  directory: Directory;
  onCall: OnCall;
  clock: Clock;
}

export interface AuthorizeInput {
  verb: CommandVerb;
  /** The note's author: their PagerDuty email, and their directory (Okta) id when the caller knows it. */
  author: { email: string; directoryUserId?: string };
  /** The requester as the request records them; the directory id when triage resolved it. */
  requester: { email?: string; directoryUserId?: string };
  entitlement: Entitlement;
  /** When the note was written; on-call is judged at that moment (the clock's now when absent or later). */
  notedAt?: Date;
}

export type ApproverRule = 'on-call' | 'listed' | 'okta-group';

export type Authorization =
  /** `requester`: the requester ending their own grant, the one thing they may do. */
  | { allowed: true; via: ApproverRule | 'requester' }
  /** A refusal to tell the author. */
  | { allowed: false; retryable: false; reason: string }
  /** A source could not be asked; say nothing to the author and try again later. */
  | { allowed: false; retryable: true; reason: string; cause: unknown };

/**
 * Cheapest first: the requester check by email (and by directory id when both ids are given),
 * the listed emails, then PagerDuty on-call, then the Okta group. When the requester's directory
 * id is known, an author who passed a rule is also resolved in the directory (if not already),
 * so one person using two addresses cannot approve their own request.
 */
export async function authorizeApprover(deps: AuthorizeDeps, input: AuthorizeInput): Promise<Authorization> {
  const { verb, author, requester, entitlement } = input;
  const authorEmail = normaliseAddress(author.email);

  const selfByEmail = requester.email !== undefined && mailboxOf(requester.email) === mailboxOf(author.email);
  if (selfByEmail || sameId(author.directoryUserId, requester.directoryUserId)) return asRequester(verb);
  if (requester.email === undefined && requester.directoryUserId === undefined) {
    return refuse(
      'loopgate does not know who asked for this access, so it cannot rule out that they are deciding ' +
        'their own request. Nobody can decide it by note; ask the requester to file a new ticket.',
    );
  }

  const rules = entitlement.approvers;
  if (!rules || (!rules.onCall && rules.emails.length === 0 && rules.oktaGroup === undefined)) {
    return refuse(`${entitlement.id} has no approvers in the catalog, so nobody can ${verb} it by note.`);
  }

  let authorId = author.directoryUserId;
  const lookUpAuthor = async () => {
    if (authorId === undefined) authorId = (await deps.directory.findUserByEmail(authorEmail))?.id;
    return authorId;
  };
  /** A rule said yes; now make sure the author is not the requester under another address. */
  const confirm = async (via: ApproverRule): Promise<Authorization> => {
    if (requester.directoryUserId === undefined) return { allowed: true, via };
    try {
      if (sameId(await lookUpAuthor(), requester.directoryUserId)) return asRequester(verb);
    } catch (cause) {
      return unchecked(authorEmail, 'the directory (Okta)', cause);
    }
    return { allowed: true, via };
  };

  // Exact addresses only: a sub-address is a different account, and must not inherit a listed person's say.
  if (rules.emails.some((listed) => normaliseAddress(listed) === authorEmail)) return confirm('listed');

  let failure: { source: string; cause: unknown } | undefined;
  if (rules.onCall) {
    try {
      const shifts = await deps.onCall.shiftsOf(authorEmail, noteMoment(deps.clock, input.notedAt));
      if (shifts.some((s) => s.escalationPolicyId === entitlement.owners.escalationPolicy)) {
        return confirm('on-call');
      }
    } catch (cause) {
      failure = { source: 'PagerDuty on-call', cause };
    }
  }
  if (rules.oktaGroup !== undefined) {
    try {
      const id = await lookUpAuthor();
      if (id !== undefined && (await deps.directory.groupMemberIds(rules.oktaGroup)).has(id)) {
        return confirm('okta-group');
      }
    } catch (cause) {
      failure ??= { source: 'the directory (Okta)', cause };
    }
  }
  // Only a rule that could not be asked might still have said yes.
  if (failure) return unchecked(authorEmail, failure.source, failure.cause);
  return refuse(
    `${authorEmail} is not an approver for ${entitlement.id}, so cannot ${verb} this request. ` +
      `Who can: ${describeApprovers(entitlement)}.`,
  );
}

function asRequester(verb: CommandVerb): Authorization {
  if (verb === 'revoke') return { allowed: true, via: 'requester' };
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

function sameId(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a.trim() !== '' && a.trim() === b.trim();
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
      ? [`whoever is on call for PagerDuty escalation policy ${entitlement.owners.escalationPolicy}`]
      : []),
    ...(rules && rules.emails.length > 0 ? [rules.emails.join(', ')] : []),
    ...(rules?.oktaGroup ? [`members of Okta group ${rules.oktaGroup}`] : []),
  ];
  return who.length === 0 ? 'nobody' : who.join('; or ');
}
