// The stage configuration: everything about one deployment that is not a
// secret, typed and validated in one place. It is read from the CDK context key
// `loopgate` (cdk.json holds an example that synthesizes offline; edit it), or
// from the JSON file the context key `loopgateFile` names (one file per stage:
// `--context loopgateFile=stages/prod.json`). A bad value fails the synth naming
// its key, and the file when it came from one.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { PROFILE_ATTRIBUTE } from '../lambdas/core/people';
import { JIRA_STATUS_CATEGORIES, LOG_LEVELS, REVOKE_UNCATALOGED, STAGE_NAME } from '../lambdas/platform/env';
import { PROJECT_ROOT } from './functions';

export const STAGE_CONTEXT_KEY = 'loopgate';
/**
 * A JSON file holding the stage configuration, relative to the project root; it replaces the
 * `loopgate` object. The CDK CLI keeps only the first line of a `--context` value, so a
 * pretty-printed file passed as `--context loopgate="$(cat …)"` arrives as `{`: name the file instead.
 */
export const STAGE_FILE_CONTEXT_KEY = 'loopgateFile';
export const DEFAULT_CATALOG_FILE = 'config/catalog.yaml';
/** 2 × 10 + 5 + 2 = 27 reserved: fits any account whose concurrency limit is at least 127. */
export const DEFAULT_RESERVED_CONCURRENCY = { webhooks: 10, revoke: 5, sweeper: 2 } as const;

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const httpsUrl = z.url({ protocol: /^https$/, error: 'must be an https URL' });
const nonEmpty = z.string().trim().min(1, 'must not be empty');
const list = z.array(nonEmpty).min(1, 'must list at least one value');

const stageSchema = z.strictObject({
  /** Names the stacks, functions, secrets and schedule group, so several stages fit in one account. */
  stage: z
    .string()
    .regex(STAGE_NAME, 'must be lower-case letters, digits and hyphens (at most 20)')
    .default('dev'),
  /** Where to deploy; the CLI's account and region when absent (`cdk deploy --profile …`). */
  account: z
    .string()
    .regex(/^\d{12}$/, 'must be a 12-digit AWS account id')
    .optional(),
  region: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as eu-west-1')
    .optional(),
  /** The access catalog, relative to the project root; bundled into every function. */
  catalog: nonEmpty.default(DEFAULT_CATALOG_FILE),
  logLevel: z.enum(LOG_LEVELS).default('info'),
  /** Requesters with an email in this domain map to the IAM user named by its local part. */
  companyEmailDomain: z
    .string()
    .regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/i, 'must be a domain such as example.com')
    .transform((d) => d.toLowerCase()),
  jira: z.strictObject({
    baseUrl: httpsUrl,
    projects: list,
    issueTypes: list,
    /** Custom field ids (customfield_NNNNN) holding the entitlement, duration and reason, when used. */
    fields: z
      .strictObject({
        entitlement: nonEmpty.optional(),
        duration: nonEmpty.optional(),
        justification: nonEmpty.optional(),
      })
      .default({}),
    /** Jira statuses a ticket moves to on each outcome, by name; unset leaves the ticket where it is. */
    statuses: z
      .strictObject({
        approved: nonEmpty.optional(),
        denied: nonEmpty.optional(),
        cancelled: nonEmpty.optional(),
        granted: nonEmpty.optional(),
        revoked: nonEmpty.optional(),
        failed: nonEmpty.optional(),
      })
      .default({}),
    breakGlass: z.strictObject({ label: nonEmpty.optional(), priority: nonEmpty.optional() }).default({}),
    /**
     * A ticket the requester (or an admin) moves to one of these statuses ends its request: cancelled
     * while waiting, revoked early when granted. By status category (Jira's keys: new, indeterminate,
     * done), by name, or both.
     */
    closing: z
      .strictObject({
        statusCategories: z.array(z.enum(JIRA_STATUS_CATEGORIES)).default(['done']),
        statuses: z.array(nonEmpty).default([]),
        /** Atlassian account ids whose moves count besides the requester's. */
        adminAccountIds: z.array(nonEmpty).default([]),
      })
      .default({ statusCategories: ['done'], statuses: [], adminAccountIds: [] }),
    /** Jira Automation's unsigned requests carry this header; its value lives in the jira-webhook secret. */
    automationHeader: z
      .string()
      .regex(/^[A-Za-z0-9-]+$/, 'must be an HTTP header name')
      .optional(),
  }),
  pagerduty: z.strictObject({
    /** The email of loopgate's own PagerDuty user: incidents and notes are written as it. */
    from: z.email('must be an email address'),
    /** Only for a PagerDuty stand-in; the real API otherwise. */
    baseUrl: httpUrl.optional(),
    /** Cancel a request when its incident is resolved without a decision (default true). */
    cancelOnResolve: z.boolean().default(true),
  }),
  okta: z.strictObject({
    orgUrl: httpsUrl,
    /**
     * Okta profile attributes (read-only to users) that hold each person's Atlassian account id and
     * PagerDuty user id. The Jira one is how requesters are found when Jira hides emails.
     */
    identity: z
      .strictObject({
        jiraAccountIdAttribute: z
          .string()
          .regex(PROFILE_ATTRIBUTE, 'must be an Okta profile attribute name (letters, digits, _)')
          .optional(),
        pagerDutyUserIdAttribute: z
          .string()
          .regex(PROFILE_ATTRIBUTE, 'must be an Okta profile attribute name (letters, digits, _)')
          .optional(),
      })
      .default({}),
  }),
  slack: z
    .discriminatedUnion('mode', [
      // search.messages needs a user token (xoxp) with search:read.
      z.strictObject({ mode: z.literal('search') }),
      // conversations.history with a bot token, on the channels the bot was invited to.
      z.strictObject({ mode: z.literal('history'), channels: list }),
      // No Slack: triage does not ask it, and the page says so. The slack secret may stay {}.
      z.strictObject({ mode: z.literal('off') }),
    ])
    .default({ mode: 'search' }),
  model: z
    .strictObject({
      /** The model id; on Azure the deployment name. */
      name: nonEmpty.default('gpt-4o-mini'),
      /** bedrock: the triage role may invoke this one model (bedrock:InvokeModel); no key is stored. */
      provider: z.enum(['openai', 'azure', 'bedrock']).default('openai'),
      /** bedrock only: the model's region; the stack's own when absent. */
      region: z
        .string()
        .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region, as in eu-west-1')
        .optional(),
      /** Any OpenAI-compatible server, or the Azure resource endpoint; OpenAI's when absent. */
      baseUrl: httpUrl.optional(),
      apiVersion: nonEmpty.optional(),
      timeoutMs: z.int().min(1000).max(60_000).optional(),
      temperature: z.number().min(0).max(2).optional(),
      /** The answer's token limit (default 800). */
      maxOutputTokens: z.int().min(100).max(16_384).optional(),
      /** Which request field carries it: newer OpenAI models take only max_completion_tokens. */
      tokenLimitParameter: z.enum(['max_completion_tokens', 'max_tokens']).optional(),
      /** Retries of a failed model call within timeoutMs (default 2). */
      maxRetries: z.int().min(0).max(5).optional(),
    })
    .refine((m) => m.provider !== 'azure' || (m.baseUrl !== undefined && m.apiVersion !== undefined), {
      message: 'provider azure needs baseUrl (the resource endpoint) and apiVersion',
    })
    .refine((m) => m.provider === 'bedrock' || m.region === undefined, {
      message: 'region is for provider bedrock only',
    })
    .default({ name: 'gpt-4o-mini', provider: 'openai' }),
  /**
   * Triage's context gathering: per source call, the whole gathering (the model's time is
   * model.timeoutMs), and the evidence bundle's tokens. Defaults 3000 ms, 8000 ms, 3000.
   */
  triage: z
    .strictObject({
      sourceTimeoutMs: z.int().min(500).max(20_000).optional(),
      budgetMs: z.int().min(1000).max(20_000).optional(),
      tokenBudget: z.int().min(500).max(100_000).optional(),
    })
    .refine((t) => (t.sourceTimeoutMs ?? 3000) <= (t.budgetMs ?? 8000), {
      message: 'sourceTimeoutMs must not exceed budgetMs (default 3000 and 8000)',
    })
    .default({}),
  /**
   * Per outside call (each attempt): in the jira-webhook (Jira gives up after about 10 s; default
   * 3000), the pagerduty-webhook (PagerDuty after 5 s; default 1500), the decide, provision, revoke
   * and sweeper functions (default 3000), and reading the secrets at cold start (default 3000).
   */
  timeouts: z
    .strictObject({
      jiraWebhookCallMs: z.int().min(200).max(3000).optional(),
      pagerdutyWebhookCallMs: z.int().min(200).max(1500).optional(),
      callMs: z.int().min(500).max(10_000).optional(),
      secretsMs: z.int().min(500).max(10_000).optional(),
    })
    .default({}),
  /** How long a page waits for a decision before the request is cancelled. */
  decisionTimeoutMinutes: z
    .int()
    .min(5)
    .max(7 * 24 * 60)
    .optional(),
  /**
   * Live grants of an entitlement a deploy removed from the catalog (or renamed) are revoked from
   * their record at their expiry, like any grant, or by the next sweep (`at-once`).
   */
  revokeUncataloged: z.enum(REVOKE_UNCATALOGED).default('at-expiry'),
  /** A managed policy every role of the app stack is bounded by, when the organisation requires one. */
  permissionsBoundaryArn: z
    .string()
    .regex(/^arn:aws[a-z-]*:iam::(\d{12}|aws):policy\/[\w+=,.@/-]+$/, 'must be an IAM managed policy ARN')
    .optional(),
  /**
   * `create` (default): the stateful stack creates the `loopgate/<stage>/*` secrets (and keeps them
   * if it is deleted). `adopt`: it uses the secrets of those names that already exist, kept from an
   * earlier deploy of the stage, so `cdk destroy` then `cdk deploy` does not collide with them.
   */
  secrets: z.enum(['create', 'adopt']).default('create'),
  /** Subscribed to the alarm topic when set (confirm the email AWS sends). */
  alarmEmail: z.email('must be an email address').optional(),
  /**
   * Lambda concurrency kept for revoke and the sweeper, and the most each webhook may use, so that a
   * flood on the public webhook URLs cannot starve the functions that take access away. `false`
   * reserves nothing (an account whose concurrency limit leaves no room: Lambda keeps 100
   * unreserved, so the sum of the reservations must stay at or below the limit minus 100).
   */
  reservedConcurrency: z
    .union(
      [
        z.literal(false),
        z.strictObject({
          /** The most each webhook (jira-webhook, pagerduty-webhook) runs at once; more is answered 429. */
          webhooks: z.int().min(1).max(1000).default(DEFAULT_RESERVED_CONCURRENCY.webhooks),
          /** Kept for revoke: its queue may use all but 2 (at least 2), the rest is for expiry schedules. */
          revoke: z
            .int()
            .min(3, 'must be at least 3: 2 for its queue, 1 for the expiry schedules')
            .max(1000)
            .default(DEFAULT_RESERVED_CONCURRENCY.revoke),
          sweeper: z.int().min(1).max(100).default(DEFAULT_RESERVED_CONCURRENCY.sweeper),
        }),
      ],
      { error: 'must be false or an object of webhooks, revoke and sweeper (each a whole number)' },
    )
    .default({ ...DEFAULT_RESERVED_CONCURRENCY }),
});

export type StageConfig = z.output<typeof stageSchema>;

const CONTEXT_SOURCE = `CDK context "${STAGE_CONTEXT_KEY}"`;

export class StageConfigError extends Error {
  /** `source`: where the configuration came from, the context key or the file. */
  constructor(
    readonly problems: string[],
    source = CONTEXT_SOURCE,
  ) {
    super(`the stage configuration (${source}) is invalid:\n` + problems.map((p) => `  ${p}`).join('\n'));
    this.name = 'StageConfigError';
  }
}

/** Reads the stage configuration of the app: the file `loopgateFile` names if set, else `loopgate`. */
export function readStageConfig(context: { tryGetContext(key: string): unknown }): StageConfig {
  const file = context.tryGetContext(STAGE_FILE_CONTEXT_KEY);
  return file === undefined
    ? parseStageConfig(context.tryGetContext(STAGE_CONTEXT_KEY))
    : parseStageFile(file);
}

/** Validates the `loopgate` context value (an object, or its JSON text from `--context`). */
export function parseStageConfig(value: unknown): StageConfig {
  if (value === undefined) {
    throw new StageConfigError([
      `${STAGE_CONTEXT_KEY}: missing; add a "${STAGE_CONTEXT_KEY}" object to the context in cdk.json (see docs/setup.md)`,
    ]);
  }
  let data = value;
  if (typeof value === 'string') {
    try {
      data = JSON.parse(value);
    } catch {
      // Most often a pretty-printed file passed as `--context loopgate="$(cat …)"`: the app gets "{".
      throw new StageConfigError([
        `${STAGE_CONTEXT_KEY}: not a JSON object (the CDK CLI passes on only the first line of a --context ` +
          `value: name the file with --context ${STAGE_FILE_CONTEXT_KEY}=stages/<stage>.json, or pass the ` +
          `JSON on one line: --context ${STAGE_CONTEXT_KEY}="$(jq -c . stages/<stage>.json)")`,
      ]);
    }
  }
  return validate(data, CONTEXT_SOURCE, STAGE_CONTEXT_KEY);
}

/** Reads and validates the stage file named by `loopgateFile`; errors name the file. */
export function parseStageFile(file: unknown): StageConfig {
  if (typeof file !== 'string' || file.trim() === '') {
    throw new StageConfigError(
      [`${STAGE_FILE_CONTEXT_KEY}: must be the path of a JSON file, such as stages/prod.json`],
      `CDK context "${STAGE_FILE_CONTEXT_KEY}"`,
    );
  }
  const source = `${file}, from CDK context "${STAGE_FILE_CONTEXT_KEY}"`;
  let text: string;
  try {
    text = readFileSync(resolve(PROJECT_ROOT, file), 'utf8');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new StageConfigError([`${file}: cannot be read (${reason})`], source);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    // A stage file holds no secret: JSON.parse's message may quote it, and says where it broke.
    const reason = error instanceof Error ? error.message : String(error);
    throw new StageConfigError([`${file}: not JSON${lineOf(text, reason)} (${reason})`], source);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new StageConfigError(
      [`${file}: not a JSON object; it holds what the "${STAGE_CONTEXT_KEY}" object of cdk.json would`],
      source,
    );
  }
  return validate(data, source, undefined, file);
}

/** " at line L column C" from JSON.parse's "at position N", which Node before 22 reports alone. */
function lineOf(text: string, reason: string): string {
  const position = /at position (\d+)/.exec(reason)?.[1];
  if (position === undefined) return '';
  const before = text.slice(0, Number(position)).split('\n');
  return ` at line ${before.length} column ${(before.at(-1)?.length ?? 0) + 1}`;
}

/** Checks `data` against the schema; problems are named by key path under `root` (or `file` for the whole). */
function validate(data: unknown, source: string, root: string | undefined, file?: string): StageConfig {
  const result = stageSchema.safeParse(data, {
    error: (issue) => (issue.input === undefined ? 'required' : undefined),
  });
  if (result.success) return result.data;
  const where = (path: PropertyKey[]) =>
    [root, ...path.map(String)].filter(Boolean).join('.') || (file ?? STAGE_CONTEXT_KEY);
  throw new StageConfigError(
    result.error.issues.flatMap((issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => `${where([...issue.path, key])}: unknown key`)
        : [`${where(issue.path)}: ${issue.message}`],
    ),
    source,
  );
}
