// Whether a role's trust policy proves that its sessions' source identity is
// the person's, so that a grant on the role limited to
// `aws:SourceIdentity` = <email> reaches only that person.
//
// Why source identity, not the session name: the session name (the part of
// `aws:userid` after the colon) is chosen by whoever calls sts:AssumeRole, so
// anyone who may assume the role could name their session after someone else.
// A source identity, once set, cannot be changed for the session nor for roles
// chained from it (IAM User Guide, "Monitor and control actions taken with
// assumed roles"), and setting one needs sts:SetSourceIdentity in the role's
// trust policy. It is proven the person's when every statement that lets it be
// set either trusts an identity provider (SAML or OIDC: the IdP signs the
// assertion or token that carries it) or pins it to the caller's own identity
// with a policy variable (`sts:SourceIdentity` = `${aws:username}`).

export interface TrustProblem {
  /** Why the role's sessions cannot be told apart by person. */
  reason: string;
}

type Json = Record<string, unknown>;

const list = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Whether an action pattern of a trust statement includes `wanted` (IAM action names ignore case). */
function allows(pattern: unknown, wanted: string): boolean {
  if (typeof pattern !== 'string') return false;
  const regex = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    'i',
  );
  return regex.test(wanted);
}

/** `sts:SourceIdentity` pinned with an exact-match operator to values that are all policy variables. */
function pinsSourceIdentity(condition: unknown): boolean {
  if (!isObject(condition)) return false;
  for (const [operator, block] of Object.entries(condition)) {
    if (!/^StringEquals(IgnoreCase)?$/i.test(operator) || !isObject(block)) continue;
    for (const [key, values] of Object.entries(block)) {
      if (key.toLowerCase() !== 'sts:sourceidentity') continue;
      const all = list(values);
      if (all.length > 0 && all.every((v) => typeof v === 'string' && /^\$\{[\w:/.-]+\}$/.test(v)))
        return true;
    }
  }
  return false;
}

/** The problem with the trust policy (URL-encoded as IAM returns it, or plain JSON), or undefined when proven. */
export function sourceIdentityProblem(trustPolicy: string | undefined): TrustProblem | undefined {
  let document: unknown;
  try {
    const text = trustPolicy ?? '';
    document = JSON.parse(text.trimStart().startsWith('{') ? text : decodeURIComponent(text));
  } catch {
    return { reason: 'its trust policy could not be read' };
  }
  const statements = isObject(document) ? list(document.Statement) : [];
  let settable = false;
  for (const [i, raw] of statements.entries()) {
    if (!isObject(raw) || raw.Effect !== 'Allow') continue;
    const where = `trust statement ${i + 1}`;
    if (raw.NotAction !== undefined || raw.NotPrincipal !== undefined) {
      return {
        reason: `${where} uses NotAction or NotPrincipal, so who may set a source identity cannot be proven`,
      };
    }
    if (!list(raw.Action).some((a) => allows(a, 'sts:SetSourceIdentity'))) continue;
    settable = true;
    const principal = raw.Principal;
    const federated = isObject(principal) ? list(principal.Federated) : [];
    const others = isObject(principal) ? Object.keys(principal).filter((k) => k !== 'Federated') : ['*'];
    const byIdentityProvider = federated.length > 0 && others.length === 0;
    if (!byIdentityProvider && !pinsSourceIdentity(raw.Condition)) {
      return {
        reason: `${where} lets its callers set any source identity (sts:SetSourceIdentity without sts:SourceIdentity pinned to the caller, as in \${aws:username}), so one person could claim another's grant`,
      };
    }
  }
  if (!settable) {
    return {
      reason:
        'its trust policy allows no sts:SetSourceIdentity, so no session of it carries the person it belongs to and the grant would reach no one',
    };
  }
  return undefined;
}
