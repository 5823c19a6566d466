// The access catalog: approval as code. Each entitlement says what it grants,
// for how long at most, who owns it (who gets paged), who may approve and how
// many approvals it needs. Parsed from plain data (the YAML lives in config/);
// every problem is reported with its path so the author can find it.

import { z } from 'zod';
import { formatDuration, parseDuration } from './duration';
import { ValidationError } from './errors';
import { escalationsOf } from './iam-escalation';
import { INLINE_POLICY_QUOTA, inlineGrantSize } from './iam-inline-size';

const duration = z.string().transform((text, ctx) => {
  const seconds = parseDuration(text);
  if (seconds === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `"${text}" is not a duration: write a whole number and a unit (m, h or d), as in 30m, 4h or 7d`,
    });
    return z.NEVER;
  }
  return seconds;
});

const pagerDutyId = z
  .string()
  .regex(/^[A-Z0-9]{7,20}$/, 'a PagerDuty id is 7 to 20 upper-case letters and digits');
const oktaGroupId = z
  .string()
  .regex(/^00g[A-Za-z0-9]{17}$/, 'an Okta group id is 20 characters starting 00g');
const email = z.email('not an email address');
const stringOrList = (missing?: string) =>
  z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
    error: (issue) => (issue.input === undefined ? missing : undefined),
  });

/** NotAction / NotResource allow everything but what they list, including whatever AWS adds later. */
const refusedNegation = (key: string, instead: string) =>
  z
    .never({
      error: `${key} allows everything except what it lists (administration and every future AWS action included): loopgate refuses it; list what is granted in ${instead}`,
    })
    .optional();

const iamStatement = z.strictObject({
  Sid: z
    .string()
    .regex(/^[A-Za-z0-9]+$/, 'a Sid is letters and digits only')
    .optional(),
  Effect: z.enum(['Allow', 'Deny']),
  Action: stringOrList('a statement lists its actions in Action (one action or a list)'),
  Resource: stringOrList('a statement lists its resources in Resource (one ARN or a list)'),
  NotAction: refusedNegation('NotAction', 'Action'),
  NotResource: refusedNegation('NotResource', 'Resource'),
  Condition: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
});

const oktaGroupAction = z.strictObject({ kind: z.literal('okta-group'), groupId: oktaGroupId });

const awsIamPolicyAction = z
  .strictObject({
    kind: z.literal('aws-iam-policy'),
    /** The requester's IAM user, or the IAM role they work through. */
    principalType: z.enum(['user', 'role']),
    /**
     * With principalType role: the role the requester assumes; the grant applies only to their
     * sessions of it, told apart by the source identity the identity provider sets to their email
     * (the connector refuses a role whose trust policy cannot prove that; docs/setup.md).
     */
    roleName: z
      .string()
      .regex(/^[\w+=,.@-]{1,64}$/, 'an IAM role name is 1 to 64 letters, digits and +=,.@_-')
      // IAM answers UnmodifiableEntity to any change of these: refused here, not at the first grant.
      .refine((name) => !/^AWSReservedSSO_/i.test(name), {
        message:
          'AWSReservedSSO_* roles belong to IAM Identity Center: only AWS may change them (IAM answers UnmodifiableEntity), so loopgate cannot grant on them; name a role your account manages',
      })
      .refine((name) => !/^AWSServiceRoleFor/i.test(name), {
        message:
          'AWSServiceRoleFor* roles are service-linked: only AWS may change them (IAM answers UnmodifiableEntity); name a role your account manages',
      })
      .optional(),
    policyArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::(\d{12}|aws):policy\/[\w+=,.@/-]+$/, 'not an IAM managed policy ARN')
      .optional(),
    statements: z.array(iamStatement).min(1).optional(),
  })
  .refine((a) => (a.policyArn === undefined) !== (a.statements === undefined), {
    message: 'give exactly one of policyArn (a managed policy) or statements (an inline policy)',
  })
  .refine((a) => (a.principalType === 'role') === (a.roleName !== undefined), {
    message:
      'principalType role needs roleName (the role the requester assumes); principalType user takes none',
  })
  .refine((a) => a.principalType === 'user' || a.statements !== undefined, {
    message:
      'a role is shared by everyone who assumes it: grant on a role with statements (scoped to the requester), not a managed policy',
  });

const ACTION_KINDS = ['okta-group', 'aws-iam-policy'] as const;
const action = z.discriminatedUnion('kind', [oktaGroupAction, awsIamPolicyAction], {
  error: (issue) =>
    issue.code === 'invalid_union'
      ? `unknown action kind ${JSON.stringify((issue.input as { kind?: unknown } | undefined)?.kind)}: use one of ${ACTION_KINDS.join(', ')}`
      : undefined,
});

const approvers = z.strictObject({
  /** Whoever is on call for the owners' escalation policy when the page goes out. */
  onCall: z.boolean().default(false),
  emails: z.array(email).default([]),
  oktaGroup: oktaGroupId.optional(),
});

/**
 * What counts as on call for the owners' policy (on-call-auto, on-call approvers, on-call reviewers):
 * a scheduled shift or override at one of these escalation levels. Default [1], the first responders.
 */
const onCall = z.strictObject({
  levels: z
    .array(z.int('a level is a whole number').min(1, "levels start at 1, the escalation policy's first rule"))
    .min(1, 'list at least one level, as in [1]')
    .refine((levels) => new Set(levels).size === levels.length, { message: 'a level is listed twice' }),
  /**
   * Approval mode: the grant ends when the requester's on-call shift ends (capped as usual), and is
   * made only while they are on call. on-call-auto grants made by the rule always end with the shift.
   */
  endWithShift: z.boolean().optional(),
});

const breakGlass = z.discriminatedUnion('allowed', [
  z.strictObject({ allowed: z.literal(false) }),
  z.strictObject({
    allowed: z.literal(true),
    maxDuration: duration,
    /** Who is paged at once to review a break-glass grant after the fact (on call for this policy, or listed). */
    alert: z
      .strictObject({ escalationPolicy: pagerDutyId.optional(), emails: z.array(email).default([]) })
      .refine((a) => a.escalationPolicy !== undefined || a.emails.length > 0, {
        message: 'name who is alerted: an escalationPolicy, emails, or both',
      }),
    /** A grant still unreviewed this long after it was decided is escalated: its reviewers are paged again. */
    reviewWithin: duration.default(24 * 3600),
  }),
]);

export const MODES = ['approval', 'audit-only', 'on-call-auto'] as const;

const entitlement = z.strictObject({
  id: z
    .string()
    .regex(
      /^[a-z0-9]+(-[a-z0-9]+)*$/,
      'an id is lower-case words joined by hyphens, as in okta-prod-readonly',
    ),
  description: z.string().min(1),
  riskTier: z.enum(['low', 'medium', 'high', 'critical']),
  action,
  duration: z.strictObject({ default: duration, max: duration }),
  owners: z.strictObject({ escalationPolicy: pagerDutyId, service: pagerDutyId }),
  approvers: approvers.optional(),
  onCall: onCall.optional(),
  approvalsRequired: z.int().min(1).max(5).default(1),
  /**
   * Distinct approvers who must agree to extend a grant (each writes `extend <duration>`; the
   * shortest is applied). Default: approvalsRequired, so an extension needs the quorum the grant did.
   */
  extensionApprovals: z.int().min(1).max(5).optional(),
  /**
   * approval: page the owners and wait for approvals.
   * audit-only: grant at once and record it; nobody is asked.
   * on-call-auto: grant at once if the requester is on call for the owners' policy, else as approval.
   */
  mode: z.enum(MODES).default('approval'),
  breakGlass: breakGlass.default({ allowed: false }),
  /**
   * An IAM grant that lets its holder widen their own access (wildcard actions, iam:PutUserPolicy,
   * sts:AssumeRole on any role, AdministratorAccess…) is refused unless this says why it must exist.
   * Accepted only in approval mode, without break-glass, at riskTier high or critical: a person
   * always decides. Never in audit-only or on-call-auto.
   */
  allowPrivilegeEscalation: z
    .strictObject({
      reason: z
        .string()
        .trim()
        .min(20, 'say in a sentence (20 characters or more) why this entitlement must be able to escalate'),
    })
    .optional(),
  /**
   * The owners' digest: who holds it through loopgate, renewals, denials and what to consider
   * dropping, posted to this Slack channel once a period (weekly unless `period: daily`). A suggestion only.
   */
  digest: z
    .strictObject({
      channel: z
        .string()
        .regex(/^(#[a-z0-9][a-z0-9_-]{0,79}|[CG][A-Z0-9]{8,})$/, 'a Slack channel id (C…) or #name'),
      period: z.enum(['weekly', 'daily']).default('weekly'),
    })
    .optional(),
  /** Smaller entitlements that may do the job; the model may suggest one of these, and only these. */
  narrowerAlternatives: z.array(z.string()).default([]),
  /**
   * approvers: an approval or an extension counts only once its author accepts an Okta Verify push.
   * PagerDuty records a note written with any REST API key `From:` a person exactly as one the person
   * wrote; the push is what proves it was them.
   * requester: nothing is paged or granted (by approval, rule or break-glass) until the requester
   * accepts an Okta Verify push: a ticket filed with someone's Jira token is not them asking.
   */
  stepUp: z
    .strictObject({
      approvers: z.boolean().default(false),
      requester: z.boolean().default(false),
    })
    .default({ approvers: false, requester: false }),
});

const catalogSchema = z
  .strictObject({ version: z.literal(1), entitlements: z.array(entitlement).min(1) })
  .superRefine((catalog, ctx) => {
    const firstIndexOf = new Map<string, number>();
    catalog.entitlements.forEach((e, i) => {
      const at = (...rest: (string | number)[]) => ['entitlements', i, ...rest];
      const earlier = firstIndexOf.get(e.id);
      if (earlier === undefined) firstIndexOf.set(e.id, i);
      else
        ctx.addIssue({
          code: 'custom',
          path: at('id'),
          message: `duplicate id "${e.id}": entitlements[${earlier}] has it too`,
        });

      if (e.duration.default > e.duration.max) {
        ctx.addIssue({
          code: 'custom',
          path: at('duration', 'default'),
          message: `default ${formatDuration(e.duration.default)} is longer than max ${formatDuration(e.duration.max)}`,
        });
      }
      if (e.breakGlass.allowed && e.breakGlass.maxDuration > e.duration.max) {
        ctx.addIssue({
          code: 'custom',
          path: at('breakGlass', 'maxDuration'),
          message: `break-glass maxDuration ${formatDuration(e.breakGlass.maxDuration)} is longer than the entitlement's max ${formatDuration(e.duration.max)}`,
        });
      }

      checkEscalation(e, (path, message) => ctx.addIssue({ code: 'custom', path: at(...path), message }));

      if (e.action.kind === 'aws-iam-policy' && e.action.statements !== undefined) {
        const size = inlineGrantSize(e.action.statements, e.action.principalType);
        const quota = INLINE_POLICY_QUOTA[e.action.principalType];
        if (size > quota) {
          ctx.addIssue({
            code: 'custom',
            path: at('action', 'statements'),
            message: `entitlement "${e.id}": its inline policy takes up to ${size.toLocaleString('en')} characters as loopgate writes it (with the expiry${e.action.principalType === 'role' ? ' and source-identity' : ''} conditions), more than IAM allows all inline policies of a ${e.action.principalType} together (${quota.toLocaleString('en')}, white space not counted): it could never be granted. Use fewer or wildcarded resources, or a managed policy`,
          });
        }
      }

      e.narrowerAlternatives.forEach((alternative, j) => {
        if (alternative === e.id || !catalog.entitlements.some((other) => other.id === alternative)) {
          ctx.addIssue({
            code: 'custom',
            path: at('narrowerAlternatives', j),
            message:
              alternative === e.id
                ? 'an entitlement is not a narrower alternative to itself'
                : `no entitlement "${alternative}" in the catalog`,
          });
        }
      });

      const onCallCounts =
        e.mode === 'on-call-auto' ||
        e.approvers?.onCall === true ||
        e.breakGlass.allowed ||
        e.onCall?.endWithShift === true;
      if (e.onCall?.endWithShift && e.mode === 'audit-only') {
        ctx.addIssue({
          code: 'custom',
          path: at('onCall', 'endWithShift'),
          message:
            'endWithShift needs mode approval or on-call-auto: an audit-only grant does not look at who is on call',
        });
      }
      if (e.onCall && !onCallCounts) {
        ctx.addIssue({
          code: 'custom',
          path: at('onCall'),
          message:
            'onCall.levels has no effect here: it applies to mode on-call-auto, approvers.onCall: true and break-glass reviewers',
        });
      }

      const a = e.approvers;
      const hasApprovers = a !== undefined && (a.onCall || a.emails.length > 0 || a.oktaGroup !== undefined);
      if (e.mode !== 'audit-only' && !hasApprovers) {
        ctx.addIssue({
          code: 'custom',
          path: at('approvers'),
          message: `no approvers: a ${e.mode} entitlement needs at least one of onCall: true, emails or oktaGroup`,
        });
      } else if (a && !a.onCall && a.oktaGroup === undefined && a.emails.length < e.approvalsRequired) {
        // Only listed people can approve, and there are too few of them to ever reach the quorum.
        ctx.addIssue({
          code: 'custom',
          path: at('approvalsRequired'),
          message: `${e.approvalsRequired} approvals required but only ${a.emails.length} approver email(s) listed`,
        });
      }
    });
  });

/**
 * Refuses IAM grants that escalate (see iam-escalation.ts) unless a person decides every grant of
 * them and the entry opts in, loudly, with a reason.
 */
function checkEscalation(
  e: z.output<typeof entitlement>,
  report: (path: (string | number)[], message: string) => void,
): void {
  const escalations = e.action.kind === 'aws-iam-policy' ? escalationsOf(e.action) : [];
  const optIn = e.allowPrivilegeEscalation;
  if (escalations.length === 0) {
    if (optIn)
      report(
        ['allowPrivilegeEscalation'],
        `entitlement "${e.id}" grants nothing that escalates: remove allowPrivilegeEscalation, so that a later change that does escalate is refused`,
      );
    return;
  }
  const withoutPerson =
    e.mode !== 'approval'
      ? `mode ${e.mode} grants without a person approving`
      : e.breakGlass.allowed
        ? 'break-glass grants without a person approving'
        : undefined;
  let refusal: string | undefined;
  if (withoutPerson)
    refusal = `${withoutPerson}, and such a grant must not escalate: refused even with allowPrivilegeEscalation. Narrow the grant, or make the entitlement mode approval without break-glass`;
  else if (!optIn)
    refusal = `refused: narrow the grant; if people must really be granted this, add allowPrivilegeEscalation: { reason: … } (riskTier high or critical, approval mode)`;
  else if (e.riskTier !== 'high' && e.riskTier !== 'critical')
    refusal = `allowPrivilegeEscalation needs riskTier high or critical, not ${e.riskTier}: the approver must see the risk`;
  if (refusal === undefined) return;
  for (const escalation of escalations) {
    report(
      ['action', ...escalation.path],
      `entitlement "${e.id}", ${escalation.subject}: ${escalation.why}; ${refusal}`,
    );
  }
}

export type Catalog = z.output<typeof catalogSchema>;
export type Entitlement = Catalog['entitlements'][number];
export type EntitlementAction = Entitlement['action'];
export type Approvers = z.output<typeof approvers>;

export type CatalogPath = readonly (string | number)[];

export interface CatalogProblem {
  /** Where in the document, as in `entitlements[2].duration.max`. */
  path: string;
  message: string;
  /** 1-based line and column in the source file, when the caller could tell. */
  line?: number;
  column?: number;
}

export class CatalogError extends ValidationError {
  constructor(
    readonly source: string,
    readonly problems: CatalogProblem[],
  ) {
    super(
      `${source}: the catalog is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'})\n` +
        problems
          .map(
            (p) =>
              `  ${source}${p.line ? `:${p.line}:${p.column ?? 1}` : ''} ${p.path || '(top level)'}: ${p.message}`,
          )
          .join('\n'),
    );
  }
}

function formatPath(path: CatalogPath): string {
  return path.reduce<string>(
    (out, part) => (typeof part === 'number' ? `${out}[${part}]` : out ? `${out}.${part}` : part),
    '',
  );
}

export interface ParseOptions {
  /** Names the document in errors, usually its file path. */
  source: string;
  /** Finds the line and column of a path in the source, if known. */
  locate?: (path: CatalogPath) => { line: number; column: number } | undefined;
}

/** Validates catalog data (already parsed from YAML or JSON). Throws CatalogError listing every problem. */
export function parseCatalog(data: unknown, options: ParseOptions): Catalog {
  const result = catalogSchema.safeParse(data);
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap((issue): CatalogProblem[] => {
    const base = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
    // One problem per unknown key, pointing at the key itself.
    const entries: [CatalogPath, string][] =
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => [[...base, key], `unknown key "${key}"`])
        : [[base, issue.message]];
    return entries.map(([path, message]) => ({ path: formatPath(path), message, ...options.locate?.(path) }));
  });
  throw new CatalogError(options.source, problems);
}

/** Looks up entitlements by id. */
export function entitlementById(catalog: Catalog, id: string): Entitlement | undefined {
  return catalog.entitlements.find((e) => e.id === id);
}
