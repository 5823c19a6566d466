// `loopgate catalog check` on the catalog's IAM managed policy ARNs: a misspelt
// AWS managed policy passes the schema (it is a well-formed ARN) and fails only
// at the first grant. Offline, each ARN of account "aws" is looked up in a list
// of AWS's managed policies (bin/aws-managed-policies.txt); one not there is a
// warning, since the list may be older than the policy. `--live` asks IAM
// (GetPolicy) for every managed policy ARN, the account's own included: an
// answer of NoSuchEntity is an error.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetPolicyCommand, type IAMClient, NoSuchEntityException } from '@aws-sdk/client-iam';
import { iamError } from '../lambdas/connectors/aws-iam/client';
import { type Catalog, type CatalogPath, formatPath } from '../lambdas/core/catalog';
import { parseYamlSource } from '../lambdas/platform/yaml-source';
import { PROJECT_ROOT } from '../lib/functions';

export const AWS_MANAGED_POLICY_LIST = join(PROJECT_ROOT, 'bin', 'aws-managed-policies.txt');

/** A managed policy ARN the catalog names, and where. */
export interface PolicyArnRef {
  arn: string;
  path: CatalogPath;
}

export interface PolicyProblem {
  severity: 'warning' | 'error';
  /** `file:line:column path: reason`, as the catalog's own errors read. */
  text: string;
}

/** Path and name of each AWS managed policy (`service-role/AWSLambdaBasicExecutionRole`). */
export function awsManagedPolicyNames(file = AWS_MANAGED_POLICY_LIST): Set<string> {
  return new Set(
    readFileSync(file, 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#')),
  );
}

export function managedPolicyArnsOf(catalog: Catalog): PolicyArnRef[] {
  return catalog.entitlements.flatMap((e, index) =>
    e.action.kind === 'aws-iam-policy' && e.action.policyArn !== undefined
      ? [{ arn: e.action.policyArn, path: ['entitlements', index, 'action', 'policyArn'] }]
      : [],
  );
}

/** `arn:aws:iam::aws:policy/service-role/X` → `service-role/X`; undefined for the account's own. */
function awsManagedNameOf(arn: string): string | undefined {
  return /^arn:aws[a-z-]*:iam::aws:policy\/(.+)$/.exec(arn)?.[1];
}

/** Each ARN of account "aws" not in the list: a warning, with the nearest listed name when one is close. */
export function checkOffline(
  refs: PolicyArnRef[],
  known: ReadonlySet<string>,
  where: Locator,
): PolicyProblem[] {
  return refs.flatMap(({ arn, path }) => {
    const name = awsManagedNameOf(arn);
    if (name === undefined || known.has(name)) return [];
    const near = nearest(name, known);
    return [
      {
        severity: 'warning' as const,
        text: `${where(path)}: warning: ${arn} is not an AWS managed policy in loopgate's list (bin/aws-managed-policies.txt)${near ? `; did you mean ${near}?` : ''} A policy newer than the list is fine: check with --live`,
      },
    ];
  });
}

/** GetPolicy for each ARN: NoSuchEntity, or a call that fails, is an error. */
export async function checkLive(
  refs: PolicyArnRef[],
  iam: IAMClient,
  where: Locator,
): Promise<PolicyProblem[]> {
  const problems: PolicyProblem[] = [];
  for (const { arn, path } of refs) {
    try {
      await iam.send(new GetPolicyCommand({ PolicyArn: arn }));
    } catch (error) {
      const reason =
        error instanceof NoSuchEntityException
          ? `IAM has no policy ${arn} (GetPolicy: NoSuchEntity)`
          : `could not check ${arn}: ${iamError(error, 'GetPolicy').message}`;
      problems.push({ severity: 'error', text: `${where(path)}: ${reason}` });
    }
  }
  return problems;
}

/** `file:line:column path` of a path in the catalog file (`file path` when it cannot be placed). */
export type Locator = (path: CatalogPath) => string;

export function locatorOf(file: string, text: string): Locator {
  const parsed = parseYamlSource(text);
  return (path) => {
    const at = parsed.ok ? parsed.locate(path) : undefined;
    return `${file}${at ? `:${at.line}:${at.column}` : ''} ${formatPath(path)}`;
  };
}

/** The listed name within a small edit distance of `name` (case ignored), if there is one. */
function nearest(name: string, known: ReadonlySet<string>): string | undefined {
  const limit = Math.max(2, Math.floor(name.length / 8));
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    if (Math.abs(candidate.length - name.length) > limit) continue;
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance <= limit && (best === undefined || distance < best.distance))
      best = { name: candidate, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
