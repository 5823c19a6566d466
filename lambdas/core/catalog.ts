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

/**
 * A permission set on an AWS account, assigned to the requester's IAM Identity Center user. The
 * instance is the permission set's (its ARN names it). An issued session keeps working until it
 * ends, revoke or not, so the permission set's SessionDuration is declared here and checked.
 */
const awsIdentityCenterAction = z.strictObject({
  kind: z.literal('aws-identity-center'),
  identityStoreId: z
    .string()
    .regex(
      /^(d-[0-9a-f]{10}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/,
      'an identity store id is d- and 10 hex digits (or a UUID), as in d-9067a1b2c3',
    ),
  permissionSetArn: z
    .string()
    .regex(
      /^arn:aws[a-z-]*:sso:::permissionSet\/ssoins-[a-zA-Z0-9.-]{16}\/ps-[a-zA-Z0-9.-]{16}$/,
      'not a permission set ARN (arn:aws:sso:::permissionSet/ssoins-…/ps-…)',
    ),
  accountId: z.string().regex(/^\d{12}$/, 'an AWS account id is 12 digits (quote it in YAML)'),
  /**
   * How the requester's Identity Center user is found: by the external id the directory's SCIM sync
   * records (the Okta user id, under `issuer`), or by userName equal to their directory email.
   */
  user: z
    .discriminatedUnion('by', [
      z.strictObject({ by: z.literal('externalId'), issuer: z.string().min(1).max(256) }),
      z.strictObject({ by: z.literal('userName') }),
    ])
    .default({ by: 'userName' }),
  /** The permission set's SessionDuration, as configured in Identity Center: how long an issued session lasts. */
  sessionDuration: duration,
  /** Accepts sessions that last longer than the whole grant may; say why. */
  sessionMayOutliveGrant: z
    .strictObject({
      reason: z
        .string()
        .trim()
        .min(20, 'say in a sentence (20 characters or more) why sessions may outlast the grant'),
    })
    .optional(),
});

const ACTION_KINDS = ['okta-group', 'aws-iam-policy', 'aws-identity-center'] as const;
const action = z.discriminatedUnion('kind', [oktaGroupAction, awsIamPolicyAction, awsIdentityCenterAction], {
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
  /** The requester's manager: the Okta person their profile's managerId names (compared by id). */
  manager: z.boolean().optional(),
});

/**
 * A stage whose only approver is the manager needs this: `skip` (the later stages decide alone) or
 * who approves instead, when the directory names no ACTIVE manager for the requester.
 */
const withoutManager = z.union([
  z.literal('skip'),
  z.strictObject({
    approvers: approvers.refine((a) => a.manager !== true, {
      message: 'the failover cannot be the manager again',
    }),
    approvalsRequired: z.int().min(1).max(5).default(1),
  }),
]);

/** An approval stage before the owners' own (the entitlement's approvers): decided in order. */
const stage = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'a stage name is lower-case words joined by hyphens')
    .optional(),
  approvers,
  approvalsRequired: z.int().min(1).max(5).default(1),
  withoutManager: withoutManager.optional(),
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
  /** With approvers that are the manager alone: what happens when the requester has none. */
  withoutManager: withoutManager.optional(),
  /** Approval stages decided before the approvers above, in order (e.g. the manager, then the owners). */
  stages: z.array(stage).min(1).max(4).optional(),
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
   * Policy sections (`access-policy#4.2`) that always apply to this entitlement: triage puts them in
   * the prompt first, ahead of those it ranks. Checked against the policy when triage starts.
   */
  policy: z
    .array(z.string().regex(/^[^#\s]+#[^#\s]+$/, 'a policy section id, as in access-policy#4.2'))
    .default([]),
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

/** One side of a conflict: a catalog entitlement, or access held outside loopgate named directly. */
const conflictMember = z
  .strictObject({
    entitlement: z.string().min(1).optional(),
    oktaGroup: oktaGroupId.optional(),
    iamPolicy: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::(\d{12}|aws):policy\/[\w+=,.@/-]+$/, 'not an IAM managed policy ARN')
      .optional(),
  })
  .refine((m) => [m.entitlement, m.oktaGroup, m.iamPolicy].filter((v) => v !== undefined).length === 1, {
    message: 'name exactly one of entitlement, oktaGroup or iamPolicy',
  });

/**
 * Separation of duties: access one person must not hold at once. A request for one member while the
 * requester holds another is never granted by a rule, and needs these approvers besides its own.
 */
const conflict = z.strictObject({
  id: z
    .string()
    .regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'an id is lower-case words joined by hyphens, as in deploy-vs-audit'),
  reason: z.string().trim().min(10, 'say in a sentence why one person must not hold these together'),
  members: z.array(conflictMember).min(2, 'a conflict needs at least two members'),
  approvers: z
    .strictObject({
      /** Whoever is on call (level 1) for this escalation policy, e.g. security's. */
      escalationPolicy: pagerDutyId.optional(),
      emails: z.array(email).default([]),
      oktaGroup: oktaGroupId.optional(),
    })
    .refine((a) => a.escalationPolicy !== undefined || a.emails.length > 0 || a.oktaGroup !== undefined, {
      message: 'name who approves through the conflict: an escalationPolicy, emails or an oktaGroup',
    }),
  approvalsRequired: z.int().min(1).max(5).default(1),
});

const catalogSchema = z
  .strictObject({
    version: z.literal(1),
    entitlements: z.array(entitlement).min(1),
    conflicts: z.array(conflict).default([]),
  })
  .superRefine((catalog, ctx) => {
    checkConflicts(catalog, (path, message) => ctx.addIssue({ code: 'custom', path, message }));
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

      if (e.action.kind === 'aws-identity-center') {
        checkSessionLength(e, e.action, (path, message) =>
          ctx.addIssue({ code: 'custom', path: at(...path), message }),
        );
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
      const hasApprovers =
        a !== undefined &&
        (a.onCall || a.emails.length > 0 || a.oktaGroup !== undefined || a.manager === true);
      if (e.mode !== 'audit-only' && !hasApprovers) {
        ctx.addIssue({
          code: 'custom',
          path: at('approvers'),
          message: `no approvers: a ${e.mode} entitlement needs at least one of onCall: true, emails or oktaGroup`,
        });
      } else if (a) {
        checkStage(a, e.approvalsRequired, e.withoutManager, (path, message) =>
          ctx.addIssue({ code: 'custom', path: at(...path), message }),
        );
      }
      if (e.withoutManager === 'skip' && a && isManagerOnly(a)) {
        ctx.addIssue({
          code: 'custom',
          path: at('withoutManager'),
          message:
            'skip would leave nobody to approve: approvers is the last stage; name who approves instead ({ approvers: … })',
        });
      }
      if (e.withoutManager !== undefined && a?.manager !== true) {
        ctx.addIssue({
          code: 'custom',
          path: at('withoutManager'),
          message: 'withoutManager has no effect: approvers does not name the manager',
        });
      }
      e.stages?.forEach((s, j) => {
        // Approvals record their stage by name: the owners' stage is `owners`, the others unique.
        const name = s.name ?? `stage-${j + 1}`;
        if (name === 'owners' || e.stages?.some((t, k) => k < j && (t.name ?? `stage-${k + 1}`) === name)) {
          ctx.addIssue({
            code: 'custom',
            path: at('stages', j, 'name'),
            message: `stage name "${name}" is taken: ${name === 'owners' ? "it is the approvers' own stage" : 'an earlier stage has it'}`,
          });
        }
        checkStage(s.approvers, s.approvalsRequired, s.withoutManager, (path, message) =>
          ctx.addIssue({ code: 'custom', path: at('stages', j, ...path), message }),
        );
        if (s.withoutManager !== undefined && s.approvers.manager !== true) {
          ctx.addIssue({
            code: 'custom',
            path: at('stages', j, 'withoutManager'),
            message: 'withoutManager has no effect: this stage does not name the manager',
          });
        }
      });
      if (e.stages && e.mode !== 'approval') {
        ctx.addIssue({
          code: 'custom',
          path: at('stages'),
          message: `stages are for mode approval; ${e.mode} may grant without them`,
        });
      }
    });
  });

/** The manager is the stage's only approver (so a requester without one needs a failover). */
export function isManagerOnly(a: z.output<typeof approvers>): boolean {
  return a.manager === true && !a.onCall && a.emails.length === 0 && a.oktaGroup === undefined;
}

/** A stage's approvers can reach its quorum, and a manager-only stage says what happens without a manager. */
function checkStage(
  a: z.output<typeof approvers>,
  required: number,
  failover: z.output<typeof withoutManager> | undefined,
  report: (path: (string | number)[], message: string) => void,
): void {
  const managerOnly = isManagerOnly(a);
  if (!a.onCall && a.oktaGroup === undefined && a.emails.length + (a.manager === true ? 1 : 0) < required) {
    // Only listed people (and the manager) can approve, and there are too few to ever reach the quorum.
    report(
      ['approvalsRequired'],
      `${required} approvals required but only ${a.emails.length} approver email(s) listed${a.manager ? ' and the manager' : ''}`,
    );
  }
  if (managerOnly && failover === undefined) {
    report(
      ['withoutManager'],
      'the manager is the only approver: say what happens when the requester has none (withoutManager: skip, or { approvers: … })',
    );
  }
  if (failover !== undefined && failover !== 'skip') {
    const f = failover.approvers;
    if (f.manager !== true && !f.onCall && f.emails.length === 0 && f.oktaGroup === undefined) {
      report(['withoutManager', 'approvers'], 'name who approves instead: onCall: true, emails or oktaGroup');
    }
  }
}

/** Members exist, are distinct, and each conflict can be met by a request (it names an entitlement). */
function checkConflicts(
  catalog: { entitlements: readonly { id: string }[]; conflicts: readonly z.output<typeof conflict>[] },
  report: (path: (string | number)[], message: string) => void,
): void {
  const ids = new Set(catalog.entitlements.map((e) => e.id));
  const firstIndexOf = new Map<string, number>();
  catalog.conflicts.forEach((c, i) => {
    const earlier = firstIndexOf.get(c.id);
    if (earlier === undefined) firstIndexOf.set(c.id, i);
    else report(['conflicts', i, 'id'], `duplicate conflict id "${c.id}": conflicts[${earlier}] has it too`);
    const seen = new Map<string, number>();
    c.members.forEach((m, j) => {
      const [kind, value] = memberKey(m);
      if (kind === 'entitlement' && !ids.has(value)) {
        report(['conflicts', i, 'members', j, 'entitlement'], `no entitlement "${value}" in the catalog`);
      }
      const key = `${kind}:${value}`;
      const first = seen.get(key);
      if (first === undefined) seen.set(key, j);
      else
        report(
          ['conflicts', i, 'members', j, kind],
          kind === 'entitlement'
            ? `"${value}" is already members[${first}]: an entitlement does not conflict with itself`
            : `${kind} ${value} is already members[${first}]`,
        );
    });
    if (c.members.length >= 2 && seen.size < 2) {
      report(['conflicts', i, 'members'], 'a conflict needs at least two different members');
    }
    if (!c.members.some((m) => m.entitlement !== undefined)) {
      report(
        ['conflicts', i, 'members'],
        'name at least one entitlement: loopgate checks a conflict when one of its entitlements is requested',
      );
    }
  });
}

function memberKey(m: z.output<typeof conflictMember>): ['entitlement' | 'oktaGroup' | 'iamPolicy', string] {
  if (m.entitlement !== undefined) return ['entitlement', m.entitlement];
  if (m.oktaGroup !== undefined) return ['oktaGroup', m.oktaGroup];
  return ['iamPolicy', m.iamPolicy ?? ''];
}

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

/**
 * Removing an assignment ends no session already issued: a session started just before the revoke
 * lasts its SessionDuration past it. One longer than the entitlement's max outlives any whole grant,
 * so it is refused unless the entry accepts it with a reason.
 */
function checkSessionLength(
  e: z.output<typeof entitlement>,
  action: z.output<typeof awsIdentityCenterAction>,
  report: (path: (string | number)[], message: string) => void,
): void {
  const longest = e.duration.max;
  if (action.sessionDuration <= longest) {
    if (action.sessionMayOutliveGrant)
      report(
        ['action', 'sessionMayOutliveGrant'],
        `entitlement "${e.id}": a ${formatDuration(action.sessionDuration)} session is not longer than the max grant (${formatDuration(longest)}): remove sessionMayOutliveGrant, so that a longer session later is refused`,
      );
    return;
  }
  if (action.sessionMayOutliveGrant) return;
  report(
    ['action', 'sessionDuration'],
    `entitlement "${e.id}": the permission set's sessions last ${formatDuration(action.sessionDuration)}, longer than the max grant (${formatDuration(longest)}), and removing the assignment ends no session: shorten the permission set's SessionDuration to ${formatDuration(longest)} or less, or accept it with sessionMayOutliveGrant: { reason: … }`,
  );
}

export type Catalog = z.output<typeof catalogSchema>;
export type Entitlement = Catalog['entitlements'][number];
export type EntitlementAction = Entitlement['action'];
export type Approvers = z.output<typeof approvers>;
export type Conflict = Catalog['conflicts'][number];
export type ConflictMember = Conflict['members'][number];
export type Stage = z.output<typeof stage>;
export type WithoutManager = z.output<typeof withoutManager>;

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

export function formatPath(path: CatalogPath): string {
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

/** The conflicts (separation of duties) that name this entitlement. */
export function conflictsOf(catalog: Catalog, entitlementId: string): Conflict[] {
  return catalog.conflicts.filter((c) => c.members.some((m) => m.entitlement === entitlementId));
}

/** Looks up entitlements by id. */
export function entitlementById(catalog: Catalog, id: string): Entitlement | undefined {
  return catalog.entitlements.find((e) => e.id === id);
}
