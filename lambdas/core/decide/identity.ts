// Who a person is, as far as email addresses tell. Jira, PagerDuty and Okta each
// hold their own copy of a person's address, typed by different people; these
// helpers compare them as a person would read them.

/** Characters that render as nothing (zero-width space and joiners, soft hyphen, BOM, tag and direction marks, …). */
export const INVISIBLE = /\p{Default_Ignorable_Code_Point}/gu;

/** The address as written, compared exactly: trimmed, lower-case, NFKC, invisible characters removed. */
export function normaliseAddress(email: string): string {
  return email.replace(INVISIBLE, '').normalize('NFKC').trim().toLowerCase();
}

/**
 * The mailbox behind an address: `dana+pd@example.com` and `dana@example.com` reach the same person.
 * Use it only to recognise someone (the requester); never to widen who is allowed, since anyone
 * who can create an account with a sub-address would otherwise pass as its owner.
 */
export function mailboxOf(email: string): string {
  const address = normaliseAddress(email);
  const at = address.lastIndexOf('@');
  if (at < 0) return address;
  const local = address.slice(0, at);
  const plus = local.indexOf('+');
  return `${plus > 0 ? local.slice(0, plus) : local}${address.slice(at)}`;
}
