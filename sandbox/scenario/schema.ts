// The scenario: the small world the stand-ins serve (people and their Okta,
// Jira, PagerDuty, Slack and IAM identities; groups, policies, on-call
// rotations, Slack messages, Jira projects). Written as YAML; times are
// relative to the sandbox clock's start ("-3d", "-2h", "+30m") or ISO.

import { z } from 'zod';

/** A moment: relative to the scenario's start (`-3d`, `-2h`, `-30m`, `+1h`) or an ISO timestamp. */
export const moment = z.string().refine((s) => /^[+-]\d+[mhd]$/.test(s) || !Number.isNaN(Date.parse(s)), {
  message: 'a moment is relative ("-3d", "-2h", "+30m") or an ISO timestamp',
});

const handle = z.string().regex(/^[a-z][a-z0-9-]*$/, 'a handle is lower-case letters, digits and hyphens');

export const OKTA_STATUSES = [
  'STAGED',
  'PROVISIONED',
  'ACTIVE',
  'RECOVERY',
  'PASSWORD_EXPIRED',
  'LOCKED_OUT',
  'SUSPENDED',
  'DEPROVISIONED',
] as const;

/** Okta factor types as the Factors API names them. */
export const OKTA_FACTOR_TYPES = [
  'push',
  'token:software:totp',
  'webauthn',
  'sms',
  'call',
  'email',
  'u2f',
] as const;

const signIn = z.strictObject({
  at: moment,
  country: z.string(),
  city: z.string(),
  /** As the System Log reports the client: e.g. "Chrome 129 on Mac OS X". */
  device: z.string(),
  ip: z.string().optional(),
  outcome: z.enum(['SUCCESS', 'FAILURE']).default('SUCCESS'),
});

const iamPolicyDocument = z.record(z.string(), z.unknown());

const person = z.strictObject({
  id: handle,
  name: z.string(),
  email: z.email(),
  title: z.string(),
  department: z.string(),
  /** The team's handle (teams below). */
  team: handle,
  /** The manager's person id. */
  manager: handle.optional(),
  okta: z
    .strictObject({
      /** Derived from the person id when absent (00u…). */
      id: z.string().optional(),
      /** The Okta login when it differs from the email, e.g. mixed case synced from AD (`Dana.Reyes@…`). */
      login: z.string().optional(),
      /** Extra profile attributes (custom ones included), e.g. `atlassianAccountId` for the Jira mapping. */
      profile: z.record(z.string(), z.string()).default({}),
      /** How the person answers an Okta Verify push: accept it, reject it, or never answer (it times out). */
      push: z.enum(['accept', 'reject', 'ignore']).default('accept'),
      status: z.enum(OKTA_STATUSES).default('ACTIVE'),
      created: moment.default('-700d'),
      /** Okta group ids. */
      groups: z.array(z.string()).default([]),
      factors: z.array(z.enum(OKTA_FACTOR_TYPES)).default(['push']),
      signIns: z.array(signIn).default([]),
    })
    .default({
      status: 'ACTIVE',
      created: '-700d',
      profile: {},
      push: 'accept',
      groups: [],
      factors: ['push'],
      signIns: [],
    }),
  jira: z
    .strictObject({
      accountId: z.string().optional(),
      /** The person's profile hides their email: Jira's REST API and webhooks leave it out (`emailAddress: null`). */
      hideEmail: z.boolean().default(false),
    })
    .default({ hideEmail: false }),
  pagerduty: z
    .strictObject({
      userId: z.string().optional(),
      /** The PagerDuty user's email when it differs from the person's (`pnair@` for `priya.nair@`). */
      email: z.email().optional(),
      /** More PagerDuty users the same person holds (another address), each with its own id. */
      otherUsers: z.array(z.strictObject({ userId: z.string(), email: z.email() })).default([]),
    })
    .default({ otherUsers: [] }),
  slack: z.strictObject({ userId: z.string().optional() }).default({}),
  aws: z
    .strictObject({
      iamUser: z.string().optional(),
      groups: z.array(z.string()).default([]),
      attachedPolicies: z.array(z.string()).default([]),
      inlinePolicies: z.record(z.string(), iamPolicyDocument).default({}),
      /** Services this user used, for IAM's last-accessed details. */
      lastAccessed: z
        .array(z.strictObject({ service: z.string(), namespace: z.string(), at: moment }))
        .default([]),
    })
    .optional(),
});

const iamPrincipal = {
  attachedPolicies: z.array(z.string()).default([]),
  inlinePolicies: z.record(z.string(), iamPolicyDocument).default({}),
};

export const scenarioSchema = z.strictObject({
  company: z.strictObject({ name: z.string(), domain: z.string() }),
  /** Where the sandbox clock starts; real time if absent. */
  start: z.string().datetime().optional(),
  teams: z.array(z.strictObject({ id: handle, name: z.string() })).min(1),
  people: z.array(person).min(1),
  okta: z.strictObject({
    groups: z.array(
      z.strictObject({
        id: z.string().regex(/^00g[A-Za-z0-9]{17}$/, 'an Okta group id is 20 characters starting 00g'),
        name: z.string(),
        description: z.string().default(''),
      }),
    ),
  }),
  aws: z.strictObject({
    accountId: z.string().regex(/^\d{12}$/),
    /** Managed policies the account knows: customer-managed ones and the AWS-managed ones that are referenced. */
    policies: z.array(
      z.strictObject({ arn: z.string(), description: z.string().default(''), document: iamPolicyDocument }),
    ),
    groups: z.array(z.strictObject({ name: z.string(), ...iamPrincipal })).default([]),
    roles: z
      .array(z.strictObject({ name: z.string(), description: z.string().default(''), ...iamPrincipal }))
      .default([]),
  }),
  /**
   * IAM Identity Center: one instance with its identity store. Every person is a user there (synced
   * from Okta as a SCIM sync would: userName their email, an external id their Okta id under
   * `externalIdIssuer`) unless listed in `notSynced`. `assignments` exist before the sandbox starts.
   */
  identityCenter: z
    .strictObject({
      instanceArn: z.string().regex(/^arn:aws:sso:::instance\/ssoins-[a-zA-Z0-9.-]{16}$/),
      identityStoreId: z.string().regex(/^d-[0-9a-f]{10}$/),
      externalIdIssuer: z.string().min(1),
      accounts: z.array(z.strictObject({ id: z.string().regex(/^\d{12}$/), name: z.string() })).default([]),
      permissionSets: z
        .array(
          z.strictObject({
            id: z.string().regex(/^ps-[a-zA-Z0-9.-]{16}$/),
            name: z.string(),
            description: z.string().default(''),
            /** ISO 8601, as DescribePermissionSet answers it (PT1H to PT12H). */
            sessionDuration: z.string().regex(/^PT(\d+H)?(\d+M)?$/),
          }),
        )
        .default([]),
      notSynced: z.array(handle).default([]),
      assignments: z
        .array(z.strictObject({ person: handle, account: z.string(), permissionSet: z.string() }))
        .default([]),
    })
    .optional(),
  pagerduty: z.strictObject({
    services: z.array(z.strictObject({ id: z.string(), name: z.string(), escalationPolicy: z.string() })),
    escalationPolicies: z.array(
      z.strictObject({
        id: z.string(),
        name: z.string(),
        rules: z
          .array(
            z.strictObject({
              delayMinutes: z.number().int().positive().default(30),
              /** Each target is `schedule:<id>` or `user:<person id>`. */
              targets: z.array(z.string().regex(/^(schedule|user):\S+$/)).min(1),
            }),
          )
          .min(1),
      }),
    ),
    schedules: z.array(
      z.strictObject({
        id: z.string(),
        name: z.string(),
        timeZone: z.string().default('UTC'),
        /** One layer: the people take turns of `shiftHours`, starting at `start`. */
        rotation: z.strictObject({
          start: moment,
          shiftHours: z.number().int().positive(),
          people: z.array(handle).min(1),
        }),
        /**
         * Someone takes over the schedule from `start` to `end` (PagerDuty's schedule overrides);
         * where two overlap, the later one in the list wins, as the last created does in PagerDuty.
         */
        overrides: z.array(z.strictObject({ person: handle, start: moment, end: moment })).default([]),
      }),
    ),
  }),
  slack: z.strictObject({
    channels: z.array(z.strictObject({ id: z.string(), name: z.string() })),
    messages: z
      .array(z.strictObject({ channel: z.string(), user: handle, at: moment, text: z.string() }))
      .default([]),
  }),
  jira: z.strictObject({
    projects: z.array(
      z.strictObject({
        key: z.string().regex(/^[A-Z][A-Z0-9]+$/),
        name: z.string(),
        issueTypes: z.array(z.string()),
      }),
    ),
    /** Custom field ids that carry the request's parts (the intake reads them). */
    fields: z.strictObject({ entitlement: z.string(), duration: z.string(), justification: z.string() }),
    /** The site hides every user's email from apps (Jira Cloud's privacy default for many sites). */
    hideEmails: z.boolean().default(false),
  }),
});

export type ScenarioInput = z.input<typeof scenarioSchema>;
export type ScenarioDocument = z.output<typeof scenarioSchema>;
