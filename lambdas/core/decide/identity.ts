// How loopgate tells people apart. A person is the directory's (Okta's) person,
// compared by user id; an email address is only a key to look them up by. An
// address is never folded onto another (no Unicode normalisation, no
// sub-address stripping): `ａna.lima@` and `ana.lima@` are different strings,
// and only the directory may say whether they are the same person.

/** Characters that render as nothing (zero-width space and joiners, soft hyphen, BOM, tag and direction marks, …). */
export const INVISIBLE = /\p{Default_Ignorable_Code_Point}/gu;

/**
 * What an address must look like to name an approver: printable ASCII only, one `@`, a dotted
 * domain. Invisible characters, full-width and mathematical letters, Cyrillic look-alikes and the
 * like are refused outright rather than normalised, so nobody can pass as a listed approver.
 */
const PLAIN_ADDRESS = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;

/** Why an address cannot identify an approver, or undefined when it can. */
export function addressProblem(email: string): string | undefined {
  if (PLAIN_ADDRESS.test(email)) return undefined;
  if (/\p{Default_Ignorable_Code_Point}/u.test(email)) {
    return `the address ${JSON.stringify(email)} contains invisible characters`;
  }
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7f]/.test(email)) {
    return `the address ${JSON.stringify(email)} contains characters outside plain ASCII, which can imitate another address`;
  }
  return `${JSON.stringify(email)} is not a plain email address`;
}

/**
 * Whether two addresses are the same lookup key. Only ASCII letters differ by case (mail systems,
 * Okta and PagerDuty all treat them so); nothing else is folded. Not a test of personhood: that is
 * the directory id's job.
 */
export function sameAddress(a: string, b: string): boolean {
  return asciiLower(a.trim()) === asciiLower(b.trim());
}

function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}
