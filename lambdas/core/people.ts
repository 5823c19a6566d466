// Who a person is: the directory's (Okta's) user, found from what Jira or
// PagerDuty knows of them. Preferably through a mapping the organisation keeps
// in the directory (an Okta profile attribute holding the person's Atlassian
// account id or PagerDuty user id, which the person cannot edit); otherwise by
// the email the other system holds. Either way the answer is a directory id,
// and people are compared by that id alone.

import type { DirectoryUser } from './context';
import type { Directory } from './ports';

export interface IdentitySettings {
  /** The Okta profile attribute that holds each person's Atlassian account id, when the organisation keeps one. */
  jiraAccountAttribute?: string;
  /** The Okta profile attribute that holds each person's PagerDuty user id, when the organisation keeps one. */
  pagerDutyUserAttribute?: string;
}

/** Okta attribute names: letters, digits and underscores, starting with a letter. */
export const PROFILE_ATTRIBUTE = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

export type PersonLookup =
  { found: true; user: DirectoryUser; via: 'mapping' | 'email' } | { found: false; why: string };

/** The directory person behind a Jira account. The email is Jira's (never typed in a ticket) and may be hidden. */
export async function personOfJiraAccount(
  directory: Directory,
  identity: IdentitySettings,
  account: { accountId: string; email?: string },
): Promise<PersonLookup> {
  return lookUp(directory, identity.jiraAccountAttribute, account.accountId, account.email, 'Jira account');
}

/** The directory person behind a PagerDuty user. */
export async function personOfPagerDutyUser(
  directory: Directory,
  identity: IdentitySettings,
  user: { id: string; email: string },
): Promise<PersonLookup> {
  return lookUp(directory, identity.pagerDutyUserAttribute, user.id, user.email, 'PagerDuty user');
}

async function lookUp(
  directory: Directory,
  attribute: string | undefined,
  id: string,
  email: string | undefined,
  what: string,
): Promise<PersonLookup> {
  if (attribute !== undefined) {
    const mapped = await directory.findUserByAttribute(attribute, id);
    if (mapped) return { found: true, user: mapped, via: 'mapping' };
  }
  if (email !== undefined && email.trim() !== '') {
    const user = await directory.findUserByEmail(email);
    if (user) return { found: true, user, via: 'email' };
  }
  const tried = [
    ...(attribute !== undefined ? [`no Okta user has ${attribute} = ${id}`] : []),
    ...(email ? [`no Okta user has the login or email ${email}`] : [`the ${what}'s email is hidden`]),
  ];
  return { found: false, why: tried.join(', and ') };
}
