// IAM's checks of an identity-based policy document before it is stored: JSON
// syntax, the policy grammar (Effect, Action/NotAction, Resource/NotResource,
// Condition, Sid) and no Principal, each refused with MalformedPolicyDocument
// in IAM's wording; and the size IAM counts against its quotas, which leaves
// white space out.

import { malformedPolicyDocument } from './errors';

const SYNTAX = 'Syntax errors in policy.';
const VERSIONS = new Set(['2012-10-17', '2008-10-17']);
const TOP_LEVEL = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_KEYS = new Set([
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
]);

/** The condition operators of the IAM policy grammar (before `IfExists` and set qualifiers). */
const CONDITION_OPERATORS = new Set([
  'StringEquals',
  'StringNotEquals',
  'StringEqualsIgnoreCase',
  'StringNotEqualsIgnoreCase',
  'StringLike',
  'StringNotLike',
  'NumericEquals',
  'NumericNotEquals',
  'NumericLessThan',
  'NumericLessThanEquals',
  'NumericGreaterThan',
  'NumericGreaterThanEquals',
  'DateEquals',
  'DateNotEquals',
  'DateLessThan',
  'DateLessThanEquals',
  'DateGreaterThan',
  'DateGreaterThanEquals',
  'Bool',
  'BinaryEquals',
  'IpAddress',
  'NotIpAddress',
  'ArnEquals',
  'ArnNotEquals',
  'ArnLike',
  'ArnNotLike',
  'Null',
]);

const VENDOR_PREFIX = 'Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.';

export type PolicyStatement = Record<string, unknown>;

/** Parses and checks an identity-based policy; throws MalformedPolicyDocument as IAM would. */
export function parsePolicyDocument(text: string): { Version?: string; Statement: PolicyStatement[] } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw malformedPolicyDocument(SYNTAX);
  }
  if (!isObject(parsed)) throw malformedPolicyDocument(SYNTAX);
  for (const key of Object.keys(parsed)) if (!TOP_LEVEL.has(key)) throw malformedPolicyDocument(SYNTAX);
  const version = parsed.Version;
  if (version !== undefined && (typeof version !== 'string' || !VERSIONS.has(version))) {
    throw malformedPolicyDocument(SYNTAX);
  }
  if (parsed.Id !== undefined && typeof parsed.Id !== 'string') throw malformedPolicyDocument(SYNTAX);
  const raw = parsed.Statement;
  const statements = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  if (statements.length === 0) throw malformedPolicyDocument(SYNTAX);
  const sids = new Set<string>();
  for (const statement of statements) {
    if (!isObject(statement)) throw malformedPolicyDocument(SYNTAX);
    checkStatement(statement, sids);
  }
  return {
    ...(version === undefined ? {} : { Version: version }),
    Statement: statements as PolicyStatement[],
  };
}

function checkStatement(statement: Record<string, unknown>, sids: Set<string>): void {
  for (const key of Object.keys(statement))
    if (!STATEMENT_KEYS.has(key)) throw malformedPolicyDocument(SYNTAX);
  if ('Principal' in statement || 'NotPrincipal' in statement) {
    throw malformedPolicyDocument('Policy document should not specify a principal.');
  }
  const sid = statement.Sid;
  if (sid !== undefined) {
    if (typeof sid !== 'string') throw malformedPolicyDocument(SYNTAX);
    if (!/^[0-9A-Za-z]*$/.test(sid)) {
      throw malformedPolicyDocument(
        'Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*',
      );
    }
    if (sid !== '' && sids.has(sid)) {
      throw malformedPolicyDocument('Statement IDs (SID) in a single policy must be unique.');
    }
    sids.add(sid);
  }
  if (statement.Effect !== 'Allow' && statement.Effect !== 'Deny') throw malformedPolicyDocument(SYNTAX);

  const actions = exclusive(statement, 'Action', 'NotAction', 'Policy statement must contain actions.');
  for (const action of actions) {
    if (action !== '*' && !/^[A-Za-z0-9-]+:[^:\s]*$/.test(action))
      throw malformedPolicyDocument(VENDOR_PREFIX);
  }
  const resources = exclusive(
    statement,
    'Resource',
    'NotResource',
    'Policy statement must contain resources.',
  );
  for (const resource of resources) {
    if (resource !== '*' && !(resource.startsWith('arn:') && resource.split(':').length >= 6)) {
      throw malformedPolicyDocument(`Resource ${resource} must be in ARN format or "*".`);
    }
  }
  if (statement.Condition !== undefined) checkCondition(statement.Condition);
}

/** One of two mutually exclusive elements (Action/NotAction), as a list of strings. */
function exclusive(statement: Record<string, unknown>, a: string, b: string, missing: string): string[] {
  const hasA = a in statement;
  const hasB = b in statement;
  if (hasA && hasB) throw malformedPolicyDocument(SYNTAX);
  if (!hasA && !hasB) throw malformedPolicyDocument(missing);
  const value = statement[hasA ? a : b];
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw malformedPolicyDocument(missing);
  if (!list.every((v): v is string => typeof v === 'string')) throw malformedPolicyDocument(SYNTAX);
  return list;
}

function checkCondition(condition: unknown): void {
  if (!isObject(condition)) throw malformedPolicyDocument(SYNTAX);
  for (const [operator, block] of Object.entries(condition)) {
    const base = operator.replace(/^(ForAnyValue|ForAllValues):/, '').replace(/IfExists$/, '');
    if (!CONDITION_OPERATORS.has(base))
      throw malformedPolicyDocument(`Invalid Condition type : ${operator}.`);
    if (!isObject(block) || Object.keys(block).length === 0) throw malformedPolicyDocument(SYNTAX);
    for (const [key, value] of Object.entries(block)) {
      if (!/^[A-Za-z0-9-]+:\S+$/.test(key)) throw malformedPolicyDocument(VENDOR_PREFIX);
      const values = Array.isArray(value) ? value : [value];
      if (values.length === 0 || !values.every((v) => ['string', 'number', 'boolean'].includes(typeof v))) {
        throw malformedPolicyDocument(SYNTAX);
      }
    }
  }
}

/** The size IAM counts against its policy quotas: characters other than white space. */
export function policySize(text: string): number {
  return text.replace(/\s/g, '').length;
}

/** The service namespaces an identity policy allows (`ec2:Describe*` → `ec2`); `*` and wildcard vendors are left out. */
export function allowedNamespaces(text: string): string[] {
  let statements: PolicyStatement[];
  try {
    statements = parsePolicyDocument(text).Statement;
  } catch {
    return [];
  }
  const namespaces = new Set<string>();
  for (const statement of statements) {
    if (statement.Effect !== 'Allow' || statement.Action === undefined) continue;
    const actions = Array.isArray(statement.Action) ? statement.Action : [statement.Action];
    for (const action of actions) {
      if (typeof action !== 'string') continue;
      const vendor = action.split(':')[0]?.toLowerCase() ?? '';
      if (action.includes(':') && /^[a-z0-9-]+$/.test(vendor)) namespaces.add(vendor);
    }
  }
  return [...namespaces];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
