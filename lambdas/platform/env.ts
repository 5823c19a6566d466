// The only reader of process.env. Every setting is read once, at cold start,
// through a typed getter that names the variable when it is missing or wrong
// (or, read through a CollectingEnv, notes every such problem and reads on).

import { ConfigurationError } from '../core/errors';
import { INTEGRATION_SECRETS, secretOwning } from './integration-secrets';
import { type IdentitySettings, PROFILE_ATTRIBUTE } from '../core/people';
import type { RevokeUncataloged } from '../core/provision/sweep';
import type { TicketClosingSettings } from '../core/ticket/status-change';
import type { ModelSettings } from '../connectors/openai/advisor';

export type EnvSource = Readonly<Record<string, string | undefined>>;

export class Env {
  constructor(private readonly source: EnvSource = process.env) {}

  /**
   * A setting is missing or wrong: throws naming it. CollectingEnv notes the problem instead and
   * reads on with `standIn`, so every problem can be reported at once.
   */
  fail<T>(message: string, _standIn: T): T {
    throw new ConfigurationError(message);
  }

  /** A non-empty string; throws naming the variable otherwise. */
  string(name: string): string {
    return this.optionalString(name) ?? this.fail(required(name), STAND_IN);
  }

  optionalString(name: string): string | undefined {
    return this.source[name]?.trim() || undefined;
  }

  url(name: string): string {
    const value = this.optionalString(name);
    return value === undefined ? this.fail(required(name), STAND_IN_URL) : this.checkUrl(name, value);
  }

  optionalUrl(name: string): string | undefined {
    const value = this.optionalString(name);
    return value === undefined ? undefined : this.checkUrl(name, value);
  }

  positiveInt(name: string): number {
    const value = this.optionalString(name);
    if (value === undefined) return this.fail(required(name), 1);
    if (!/^\d+$/.test(value) || Number(value) < 1) {
      return this.fail(`environment variable ${name} must be a positive whole number, got "${value}"`, 1);
    }
    return Number(value);
  }

  /** A positive whole number, or `fallback` when the variable is absent. */
  positiveIntOr(name: string, fallback: number): number {
    return this.optionalString(name) === undefined ? fallback : this.positiveInt(name);
  }

  /** A whole number ≥ 0, or `fallback` when the variable is absent. */
  wholeNumberOr(name: string, fallback: number): number {
    const value = this.optionalString(name);
    if (value === undefined) return fallback;
    if (!/^\d+$/.test(value)) {
      return this.fail(`environment variable ${name} must be a whole number, got "${value}"`, fallback);
    }
    return Number(value);
  }

  /** A number within [min, max], or undefined when the variable is absent. */
  optionalNumberIn(name: string, min: number, max: number): number | undefined {
    const value = this.optionalString(name);
    if (value === undefined) return undefined;
    const number = Number(value);
    if (!/^-?\d+(\.\d+)?$/.test(value) || number < min || number > max) {
      return this.fail(
        `environment variable ${name} must be a number from ${min} to ${max}, got "${value}"`,
        undefined,
      );
    }
    return number;
  }

  /** One of `allowed`, or `fallback` when the variable is absent. */
  oneOfOr<const T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    return this.optionalString(name) === undefined ? fallback : this.oneOf(name, allowed);
  }

  oneOf<const T extends string>(name: string, allowed: readonly T[]): T {
    const value = this.optionalString(name);
    const standIn = allowed[0] as T;
    if (value === undefined) return this.fail(required(name), standIn);
    if (!(allowed as readonly string[]).includes(value)) {
      return this.fail(
        `environment variable ${name} must be one of ${allowed.join(', ')}, got "${value}"`,
        standIn,
      );
    }
    return value as T;
  }

  /** Checks that the value is a URL and returns it as written (no trailing slash added). */
  private checkUrl(name: string, value: string): string {
    try {
      new URL(value);
      return value;
    } catch {
      return this.fail(`environment variable ${name} must be a URL, got "${value}"`, STAND_IN_URL);
    }
  }
}

/**
 * An Env that never throws on a bad setting: it notes each problem once, in the order met, and
 * reads on with a stand-in value. For reporting every problem at once (`loopgate dev`); what it
 * reads must never be used when `problems` is not empty.
 */
export class CollectingEnv extends Env {
  readonly problems: string[] = [];

  override fail<T>(message: string, standIn: T): T {
    if (!this.problems.includes(message)) this.problems.push(message);
    return standIn;
  }
}

/** Names where a missing variable comes from, when it is a secret's key: that secret may lack it. */
const required = (name: string) => {
  const secret = secretOwning(name);
  return `environment variable ${name} is required${
    secret ? ` (a key of the ${secret} secret, loopgate/<stage>/${INTEGRATION_SECRETS[secret].name})` : ''
  }`;
};
/** What a CollectingEnv reads on with; never used, as a reader with problems is not used. */
const STAND_IN = 'missing';
const STAND_IN_URL = 'https://missing.invalid';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** LOOPGATE_REVOKE_UNCATALOGED (the stage's `revokeUncataloged`); the sweeper reads it. */
export const REVOKE_UNCATALOGED = ['at-expiry', 'at-once'] as const satisfies readonly RevokeUncataloged[];

/** Settings every function shares. Later stages add their own readers here, not elsewhere. */
export interface CommonSettings {
  tableName: string;
  logLevel: LogLevel;
  /** Only set in the sandbox and tests: DynamoDB Local's address. */
  dynamoDbEndpoint?: string;
  /** Only set in the sandbox: keys for its AWS stand-ins. On AWS the function's role supplies credentials. */
  sandboxAwsCredentials?: { accessKeyId: string; secretAccessKey: string };
}

export function readCommonSettings(env = new Env()): CommonSettings {
  const sandboxKey = env.optionalString('LOOPGATE_SANDBOX_AWS_ACCESS_KEY_ID');
  return {
    tableName: env.string('LOOPGATE_TABLE_NAME'),
    logLevel: env.optionalString('LOG_LEVEL') === undefined ? 'info' : env.oneOf('LOG_LEVEL', LOG_LEVELS),
    dynamoDbEndpoint: env.optionalUrl('LOOPGATE_DYNAMODB_ENDPOINT'),
    ...(sandboxKey
      ? {
          sandboxAwsCredentials: {
            accessKeyId: sandboxKey,
            secretAccessKey: env.string('LOOPGATE_SANDBOX_AWS_SECRET_ACCESS_KEY'),
          },
        }
      : {}),
  };
}

/** A stage's name (`dev`, `prod`): lib/stage-config.ts checks the stage configuration with it too. */
export const STAGE_NAME = /^[a-z][a-z0-9-]{0,19}$/;

/** What every function reads besides the common settings (the CLI's readers need no stage). */
export interface FunctionSettings extends CommonSettings {
  /**
   * The stage the function belongs to (LOOPGATE_STAGE): a dimension of every metric it emits, so
   * that stages sharing an account never fire each other's alarms.
   */
  stage: string;
}

export function readFunctionSettings(env = new Env()): FunctionSettings {
  const read = env.string('LOOPGATE_STAGE');
  const stage = STAGE_NAME.test(read)
    ? read
    : env.fail(
        `environment variable LOOPGATE_STAGE must be a stage name (lower-case letters, digits and hyphens, at most 20), got "${read}"`,
        read,
      );
  return { ...readCommonSettings(env), stage };
}

/** A comma-separated list of at least one entry; empty entries dropped. */
function list(env: Env, name: string): string[] {
  const items = env
    .string(name)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0)
    return env.fail(`environment variable ${name} must list at least one value`, [STAND_IN]);
  return items;
}

export interface IntakeConfig extends FunctionSettings {
  catalogFile: string;
  /** Per-call timeout for Jira, Okta and SQS; the webhook must answer within seconds. */
  timeoutMs: number;
  region: string;
  triageQueueUrl: string;
  /** A requester's `revoke` comment on the ticket goes to the revoke queue. */
  revokeQueueUrl: string;
  /** The decide function delivers what a closed ticket or a Jira revoke tells people (PagerDuty notes too). */
  decideQueueUrl: string;
  /** Only in the sandbox: the SQS stand-in (on AWS the SDK finds the regional endpoint). */
  sqsEndpoint?: string;
  jira: {
    baseUrl: string;
    email: string;
    apiToken: string;
    webhookSecrets: string[];
    automation?: { header: string; secret: string };
    projects: string[];
    issueTypes: string[];
    fields: { entitlement?: string; duration?: string; justification?: string };
    /** A label (default `break-glass`) or a priority that marks a ticket as break-glass. */
    breakGlass: { label?: string; priority?: string };
    /** The statuses that end a request when the requester (or an admin) moves the ticket there. */
    closing: TicketClosingSettings;
  };
  okta: { orgUrl: string; token: string };
  identity: IdentitySettings;
}

export function readIntakeConfig(env = new Env()): IntakeConfig {
  const webhookSecrets = list(env, 'LOOPGATE_JIRA_WEBHOOK_SECRETS');
  if (webhookSecrets.length > 2) {
    env.fail('LOOPGATE_JIRA_WEBHOOK_SECRETS holds at most two secrets (the current and the previous)', null);
  }
  const automationHeader = env.optionalString('LOOPGATE_JIRA_AUTOMATION_HEADER');
  const fields = {
    entitlement: env.optionalString('LOOPGATE_JIRA_FIELD_ENTITLEMENT'),
    duration: env.optionalString('LOOPGATE_JIRA_FIELD_DURATION'),
    justification: env.optionalString('LOOPGATE_JIRA_FIELD_JUSTIFICATION'),
  };
  return {
    ...readFunctionSettings(env),
    catalogFile: env.string('LOOPGATE_CATALOG_FILE'),
    timeoutMs: env.optionalString('LOOPGATE_HTTP_TIMEOUT_MS')
      ? env.positiveInt('LOOPGATE_HTTP_TIMEOUT_MS')
      : 3000,
    region: env.string('AWS_REGION'),
    triageQueueUrl: env.url('LOOPGATE_TRIAGE_QUEUE_URL'),
    revokeQueueUrl: env.url('LOOPGATE_REVOKE_QUEUE_URL'),
    decideQueueUrl: env.url('LOOPGATE_DECIDE_QUEUE_URL'),
    ...(env.optionalUrl('LOOPGATE_SQS_ENDPOINT') ? { sqsEndpoint: env.url('LOOPGATE_SQS_ENDPOINT') } : {}),
    jira: {
      baseUrl: env.url('LOOPGATE_JIRA_BASE_URL'),
      email: env.string('LOOPGATE_JIRA_EMAIL'),
      apiToken: env.string('LOOPGATE_JIRA_API_TOKEN'),
      webhookSecrets,
      ...(automationHeader
        ? { automation: { header: automationHeader, secret: env.string('LOOPGATE_JIRA_AUTOMATION_SECRET') } }
        : {}),
      projects: list(env, 'LOOPGATE_JIRA_PROJECTS'),
      issueTypes: list(env, 'LOOPGATE_JIRA_ISSUE_TYPES'),
      fields: Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)),
      breakGlass: {
        label: env.optionalString('LOOPGATE_BREAK_GLASS_LABEL') ?? 'break-glass',
        ...(env.optionalString('LOOPGATE_BREAK_GLASS_PRIORITY')
          ? { priority: env.string('LOOPGATE_BREAK_GLASS_PRIORITY') }
          : {}),
      },
      closing: readTicketClosing(env),
    },
    okta: { orgUrl: env.url('LOOPGATE_OKTA_ORG_URL'), token: env.string('LOOPGATE_OKTA_TOKEN') },
    identity: readIdentity(env),
  };
}

/** Jira's status category keys (GET /rest/api/3/statuscategory). */
export const JIRA_STATUS_CATEGORIES = ['new', 'indeterminate', 'done'] as const;

/** Which statuses close a request: by category (default `done`), by name, and whose moves count. */
function readTicketClosing(env: Env): TicketClosingSettings {
  const optionalList = (name: string) =>
    (env.optionalString(name) ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const categories = env.optionalString('LOOPGATE_JIRA_CLOSING_STATUS_CATEGORIES')
    ? list(env, 'LOOPGATE_JIRA_CLOSING_STATUS_CATEGORIES')
    : ['done'];
  for (const category of categories) {
    if (!(JIRA_STATUS_CATEGORIES as readonly string[]).includes(category)) {
      env.fail(
        `environment variable LOOPGATE_JIRA_CLOSING_STATUS_CATEGORIES must list Jira status category keys (${JIRA_STATUS_CATEGORIES.join(', ')}), got "${category}"`,
        null,
      );
    }
  }
  return {
    statusCategories: categories,
    statuses: optionalList('LOOPGATE_JIRA_CLOSING_STATUSES'),
    adminAccountIds: optionalList('LOOPGATE_JIRA_ADMIN_ACCOUNT_IDS'),
  };
}

/** The Okta profile attributes that map Jira accounts and PagerDuty users to people, when the organisation keeps them. */
export function readIdentity(env: Env): IdentitySettings {
  const attribute = (name: string) => {
    const value = env.optionalString(name);
    if (value !== undefined && !PROFILE_ATTRIBUTE.test(value)) {
      return env.fail(
        `environment variable ${name} must be an Okta profile attribute name (letters, digits, _), got "${value}"`,
        undefined,
      );
    }
    return value;
  };
  const jira = attribute('LOOPGATE_OKTA_JIRA_ACCOUNT_ATTRIBUTE');
  const pagerDuty = attribute('LOOPGATE_OKTA_PAGERDUTY_USER_ATTRIBUTE');
  return {
    ...(jira ? { jiraAccountAttribute: jira } : {}),
    ...(pagerDuty ? { pagerDutyUserAttribute: pagerDuty } : {}),
  };
}

export interface TriageConfig extends FunctionSettings {
  catalogFile: string;
  /** Folder of the written access policy (Markdown). */
  policyDir: string;
  region: string;
  /** Only in the sandbox: the IAM stand-in. */
  iamEndpoint?: string;
  sourceTimeoutMs: number;
  budgetMs: number;
  tokenBudget: number;
  /** Only requesters with an email in this domain are mapped to an IAM user of the same name. */
  companyEmailDomain: string;
  okta: { orgUrl: string; token: string };
  /** `off`: no Slack at all (no token); the page says Slack was not asked. */
  slack:
    | ({ token: string; apiUrl?: string } & ({ mode: 'search' } | { mode: 'history'; channelIds: string[] }))
    | { mode: 'off' };
  pagerduty: PagerDutySettings;
  jira: JiraApiSettings;
  /** How long a page waits for a decision before the request is cancelled (default 24 h). */
  decisionTimeoutMs: number;
  /** Rule-approved requests (audit-only, on-call, break-glass) are sent here at once. */
  provisionQueueUrl: string;
  /** Its own queue: a request waiting for its requester's Okta Verify push is looked at again a little later. */
  triageQueueUrl: string;
  /** Only in the sandbox: the SQS stand-in. */
  sqsEndpoint?: string;
  /** Folder of the recommendation prompt templates (system.md, user.md). */
  promptDir: string;
  /** Absent when no model API key is configured: triage goes on without a recommendation. */
  model?: ModelSettings;
  /** Maps PagerDuty users to people: the requester's shifts (on-call-auto) are theirs only when it says so. */
  identity: IdentitySettings;
}

export interface PagerDutySettings {
  token: string;
  baseUrl?: string;
  /** The email of loopgate's own PagerDuty user: incidents and notes are written as this user. */
  from: string;
}

export interface JiraApiSettings {
  baseUrl: string;
  email: string;
  apiToken: string;
}

function readPagerDuty(env: Env): PagerDutySettings {
  const baseUrl = env.optionalUrl('LOOPGATE_PAGERDUTY_BASE_URL');
  return {
    token: env.string('LOOPGATE_PAGERDUTY_TOKEN'),
    ...(baseUrl ? { baseUrl } : {}),
    from: env.string('LOOPGATE_PAGERDUTY_FROM'),
  };
}

function readJiraApi(env: Env): JiraApiSettings {
  return {
    baseUrl: env.url('LOOPGATE_JIRA_BASE_URL'),
    email: env.string('LOOPGATE_JIRA_EMAIL'),
    apiToken: env.string('LOOPGATE_JIRA_API_TOKEN'),
  };
}

/** `LOOPGATE_JIRA_STATUS_<OUTCOME>` for each outcome: the Jira status a ticket moves to, when set. */
function jiraStatuses<const T extends string>(env: Env, outcomes: readonly T[]): Partial<Record<T, string>> {
  const statuses: Partial<Record<T, string>> = {};
  for (const outcome of outcomes) {
    const status = env.optionalString(`LOOPGATE_JIRA_STATUS_${outcome.toUpperCase()}`);
    if (status !== undefined) statuses[outcome] = status;
  }
  return statuses;
}

/** How long an APPROVED request waits for provisioning before the sweeper sends it again. */
export const PROVISION_DUE_MS = 15 * 60_000;

export const DEFAULT_MODEL = 'gpt-4o-mini';
/** How loopgate reaches the model; a local OpenAI-compatible server is `openai` with its base URL. */
export const MODEL_PROVIDERS = [
  'openai',
  'azure',
  'bedrock',
] as const satisfies readonly ModelSettings['provider'][];
/** Tokens of the evidence bundle; the prompt's templates add about 700. */
export const DEFAULT_TOKEN_BUDGET = 3000;

/**
 * The model: OpenAI by default; Azure OpenAI with provider `azure`; Amazon Bedrock with provider
 * `bedrock` (no key: requests are signed with the function's AWS credentials); any
 * OpenAI-compatible server (Ollama, vLLM) by base URL. No API key (and not Bedrock), no model:
 * that is a supported way to run.
 */
export function readModelSettings(env = new Env()): ModelSettings | undefined {
  const provider = env.oneOfOr('LOOPGATE_MODEL_PROVIDER', MODEL_PROVIDERS, 'openai');
  const apiKey = env.optionalString('LOOPGATE_MODEL_API_KEY');
  if (provider === 'bedrock' && apiKey !== undefined) {
    env.fail(
      'LOOPGATE_MODEL_API_KEY is set with LOOPGATE_MODEL_PROVIDER=bedrock: Bedrock is called with the function role, so no key is stored; remove the key from the model secret',
      null,
    );
  }
  if (apiKey === undefined && provider !== 'bedrock') return undefined;
  const baseUrl = env.optionalUrl('LOOPGATE_MODEL_BASE_URL');
  const temperature = env.optionalNumberIn('LOOPGATE_MODEL_TEMPERATURE', 0, 2);
  if (provider === 'azure' && baseUrl === undefined) {
    env.fail(
      'LOOPGATE_MODEL_BASE_URL is required with LOOPGATE_MODEL_PROVIDER=azure: the resource endpoint, as in https://NAME.openai.azure.com',
      null,
    );
  }
  const common = {
    model: env.optionalString('LOOPGATE_MODEL') ?? DEFAULT_MODEL,
    ...(baseUrl ? { baseUrl } : {}),
    ...(temperature === undefined ? {} : { temperature }),
    maxOutputTokens: env.positiveIntOr('LOOPGATE_MODEL_MAX_OUTPUT_TOKENS', 800),
    tokenLimitParameter: env.oneOfOr(
      'LOOPGATE_MODEL_TOKEN_LIMIT_PARAMETER',
      ['max_completion_tokens', 'max_tokens'],
      'max_completion_tokens',
    ),
    budgetMs: env.positiveIntOr('LOOPGATE_MODEL_TIMEOUT_MS', 20_000),
    maxRetries: env.wholeNumberOr('LOOPGATE_MODEL_MAX_RETRIES', 2),
  };
  if (provider === 'bedrock') {
    // The model's region; the function's own (AWS_REGION, set by Lambda) unless the stage names another.
    const region = env.optionalString('LOOPGATE_MODEL_REGION') ?? env.string('AWS_REGION');
    return { ...common, provider, region };
  }
  const key = apiKey as string;
  return provider === 'azure'
    ? { ...common, provider, apiKey: key, apiVersion: env.string('LOOPGATE_MODEL_API_VERSION') }
    : { ...common, provider, apiKey: key };
}

export function readTriageConfig(env = new Env()): TriageConfig {
  const slackMode = env.oneOf('LOOPGATE_SLACK_MODE', ['search', 'history', 'off']);
  const slackApiUrl = env.optionalUrl('LOOPGATE_SLACK_API_URL');
  const iamEndpoint = env.optionalUrl('LOOPGATE_IAM_ENDPOINT');
  const model = readModelSettings(env);
  return {
    identity: readIdentity(env),
    ...readFunctionSettings(env),
    catalogFile: env.string('LOOPGATE_CATALOG_FILE'),
    policyDir: env.string('LOOPGATE_POLICY_DIR'),
    region: env.string('AWS_REGION'),
    ...(iamEndpoint ? { iamEndpoint } : {}),
    sourceTimeoutMs: env.positiveIntOr('LOOPGATE_TRIAGE_SOURCE_TIMEOUT_MS', 3000),
    budgetMs: env.positiveIntOr('LOOPGATE_TRIAGE_BUDGET_MS', 8000),
    tokenBudget: env.positiveIntOr('LOOPGATE_TRIAGE_TOKEN_BUDGET', DEFAULT_TOKEN_BUDGET),
    companyEmailDomain: env.string('LOOPGATE_COMPANY_EMAIL_DOMAIN').toLowerCase(),
    okta: { orgUrl: env.url('LOOPGATE_OKTA_ORG_URL'), token: env.string('LOOPGATE_OKTA_TOKEN') },
    slack:
      slackMode === 'off'
        ? { mode: 'off' }
        : {
            token: env.string('LOOPGATE_SLACK_TOKEN'),
            ...(slackApiUrl ? { apiUrl: slackApiUrl } : {}),
            ...(slackMode === 'history'
              ? { mode: 'history', channelIds: list(env, 'LOOPGATE_SLACK_CHANNELS') }
              : { mode: 'search' }),
          },
    pagerduty: readPagerDuty(env),
    jira: readJiraApi(env),
    decisionTimeoutMs: env.positiveIntOr('LOOPGATE_DECISION_TIMEOUT_MINUTES', 24 * 60) * 60_000,
    provisionQueueUrl: env.url('LOOPGATE_PROVISION_QUEUE_URL'),
    triageQueueUrl: env.url('LOOPGATE_TRIAGE_QUEUE_URL'),
    ...(env.optionalUrl('LOOPGATE_SQS_ENDPOINT') ? { sqsEndpoint: env.url('LOOPGATE_SQS_ENDPOINT') } : {}),
    promptDir: env.string('LOOPGATE_PROMPT_DIR'),
    ...(model ? { model } : {}),
  };
}

/** The pagerduty-webhook function: it checks signatures and queues events, nothing else. */
export interface PagerDutyWebhookConfig extends FunctionSettings {
  region: string;
  /** Per call to SQS: PagerDuty wants an answer within 5 s. */
  timeoutMs: number;
  webhookSecrets: string[];
  decideQueueUrl: string;
  /** Only in the sandbox: the SQS stand-in. */
  sqsEndpoint?: string;
}

export function readPagerDutyWebhookConfig(env = new Env()): PagerDutyWebhookConfig {
  const webhookSecrets = list(env, 'LOOPGATE_PAGERDUTY_WEBHOOK_SECRETS');
  if (webhookSecrets.length > 2) {
    env.fail(
      'LOOPGATE_PAGERDUTY_WEBHOOK_SECRETS holds at most two secrets (the current and the previous)',
      null,
    );
  }
  const sqsEndpoint = env.optionalUrl('LOOPGATE_SQS_ENDPOINT');
  return {
    ...readFunctionSettings(env),
    region: env.string('AWS_REGION'),
    timeoutMs: env.positiveIntOr('LOOPGATE_HTTP_TIMEOUT_MS', 1500),
    webhookSecrets,
    decideQueueUrl: env.url('LOOPGATE_DECIDE_QUEUE_URL'),
    ...(sqsEndpoint ? { sqsEndpoint } : {}),
  };
}

/** The decide function, fed by the decide queue. */
export interface DecideConfig extends FunctionSettings {
  catalogFile: string;
  region: string;
  /** Per call to PagerDuty, Okta, Jira and SQS. */
  timeoutMs: number;
  pagerduty: PagerDutySettings;
  jira: JiraApiSettings;
  okta: { orgUrl: string; token: string };
  identity: IdentitySettings;
  provisionQueueUrl: string;
  /** Early revokes asked on the incident go here, to the revoke function. */
  revokeQueueUrl: string;
  /** Its own queue: a request to look at again later (an Okta Verify push waiting for its answer). */
  decideQueueUrl: string;
  /** Only in the sandbox: the SQS stand-in. */
  sqsEndpoint?: string;
  cancelOnResolve: boolean;
  /** Jira statuses the ticket is moved to on each outcome, when set. */
  jiraStatuses: { approved?: string; denied?: string; cancelled?: string };
}

export function readDecideConfig(env = new Env()): DecideConfig {
  const sqsEndpoint = env.optionalUrl('LOOPGATE_SQS_ENDPOINT');
  return {
    ...readFunctionSettings(env),
    catalogFile: env.string('LOOPGATE_CATALOG_FILE'),
    region: env.string('AWS_REGION'),
    timeoutMs: env.positiveIntOr('LOOPGATE_HTTP_TIMEOUT_MS', 3000),
    pagerduty: readPagerDuty(env),
    jira: readJiraApi(env),
    okta: { orgUrl: env.url('LOOPGATE_OKTA_ORG_URL'), token: env.string('LOOPGATE_OKTA_TOKEN') },
    identity: readIdentity(env),
    provisionQueueUrl: env.url('LOOPGATE_PROVISION_QUEUE_URL'),
    revokeQueueUrl: env.url('LOOPGATE_REVOKE_QUEUE_URL'),
    decideQueueUrl: env.url('LOOPGATE_DECIDE_QUEUE_URL'),
    ...(sqsEndpoint ? { sqsEndpoint } : {}),
    cancelOnResolve: env.oneOfOr('LOOPGATE_CANCEL_ON_RESOLVE', ['true', 'false'], 'true') === 'true',
    jiraStatuses: jiraStatuses(env, ['approved', 'denied', 'cancelled']),
  };
}

/** The provision, revoke and sweeper functions share one configuration. */
export interface ProvisionConfig extends FunctionSettings {
  catalogFile: string;
  region: string;
  /** Per call to Okta, IAM, Scheduler, PagerDuty and Jira. */
  timeoutMs: number;
  /** Only requesters with an email in this domain map to an IAM user of the same name. */
  companyEmailDomain: string;
  okta: { orgUrl: string; token: string };
  /** Only in the sandbox: the IAM stand-in. */
  iamEndpoint?: string;
  /** Identity Center grants: its region, how long a grant waits for an assignment to settle, the first poll pause. */
  identityCenter: { region: string; endpoint?: string; maxWaitMs: number; pollMs: number };
  pagerduty: PagerDutySettings;
  jira: JiraApiSettings;
  scheduler: {
    groupName: string;
    /** What a grant's schedule invokes at expiry: the revoke function. */
    targetArn: string;
    /** The role Scheduler assumes to invoke it. */
    roleArn: string;
    /** Only in the sandbox: the Scheduler stand-in. */
    endpoint?: string;
  };
  /** The sweeper re-sends approved requests here. */
  provisionQueueUrl: string;
  /** The sweeper re-sends requests whose triage stopped here. */
  triageQueueUrl: string;
  sqsEndpoint?: string;
  /** `cancelled`: where the sweeper moves a ticket nobody decided in time. */
  jiraStatuses: { granted?: string; revoked?: string; failed?: string; cancelled?: string };
  /** The sweeper's: live grants of an entitlement no longer in the catalog are revoked at expiry or at once. */
  revokeUncataloged: RevokeUncataloged;
  /** Maps PagerDuty users to people: a shift-bound grant follows the requester's own shifts. */
  identity: IdentitySettings;
}

function readIdentityCenter(env: Env): ProvisionConfig['identityCenter'] {
  const endpoint = env.optionalUrl('LOOPGATE_IDENTITY_CENTER_ENDPOINT');
  return {
    // Identity Center lives in one region, not necessarily the stack's.
    region: env.optionalString('LOOPGATE_IDENTITY_CENTER_REGION') ?? env.string('AWS_REGION'),
    ...(endpoint ? { endpoint } : {}),
    // Well inside the provision and revoke functions' 60 s, with the other calls of a grant.
    maxWaitMs: env.positiveIntOr('LOOPGATE_IDENTITY_CENTER_WAIT_MS', 25_000),
    pollMs: env.positiveIntOr('LOOPGATE_IDENTITY_CENTER_POLL_MS', 1000),
  };
}

export function readProvisionConfig(env = new Env()): ProvisionConfig {
  const iamEndpoint = env.optionalUrl('LOOPGATE_IAM_ENDPOINT');
  const schedulerEndpoint = env.optionalUrl('LOOPGATE_SCHEDULER_ENDPOINT');
  const sqsEndpoint = env.optionalUrl('LOOPGATE_SQS_ENDPOINT');
  return {
    identity: readIdentity(env),
    ...readFunctionSettings(env),
    catalogFile: env.string('LOOPGATE_CATALOG_FILE'),
    region: env.string('AWS_REGION'),
    timeoutMs: env.positiveIntOr('LOOPGATE_HTTP_TIMEOUT_MS', 3000),
    companyEmailDomain: env.string('LOOPGATE_COMPANY_EMAIL_DOMAIN').toLowerCase(),
    okta: { orgUrl: env.url('LOOPGATE_OKTA_ORG_URL'), token: env.string('LOOPGATE_OKTA_TOKEN') },
    ...(iamEndpoint ? { iamEndpoint } : {}),
    identityCenter: readIdentityCenter(env),
    pagerduty: readPagerDuty(env),
    jira: readJiraApi(env),
    scheduler: {
      groupName: env.string('LOOPGATE_SCHEDULE_GROUP'),
      targetArn: env.string('LOOPGATE_REVOKE_FUNCTION_ARN'),
      roleArn: env.string('LOOPGATE_SCHEDULER_ROLE_ARN'),
      ...(schedulerEndpoint ? { endpoint: schedulerEndpoint } : {}),
    },
    provisionQueueUrl: env.url('LOOPGATE_PROVISION_QUEUE_URL'),
    triageQueueUrl: env.url('LOOPGATE_TRIAGE_QUEUE_URL'),
    ...(sqsEndpoint ? { sqsEndpoint } : {}),
    jiraStatuses: jiraStatuses(env, ['granted', 'revoked', 'failed', 'cancelled']),
    revokeUncataloged: env.oneOfOr('LOOPGATE_REVOKE_UNCATALOGED', REVOKE_UNCATALOGED, 'at-expiry'),
  };
}

/** The operator's commands that act (`loopgate revoke`, `loopgate cancel`): what the functions' queues are. */
export interface OperatorActionConfig extends CommonSettings {
  region: string;
  timeoutMs: number;
  /** The revoke function removes the access; an operator's revoke is queued to it. */
  revokeQueueUrl: string;
  /** The decide function delivers the follow-ups (notes, comments) the operator's step wrote. */
  decideQueueUrl: string;
  jiraStatuses: { cancelled?: string };
  /** Only in the sandbox: the SQS and STS stand-ins. */
  sqsEndpoint?: string;
  stsEndpoint?: string;
}

export function readOperatorActionConfig(env = new Env()): OperatorActionConfig {
  const sqsEndpoint = env.optionalUrl('LOOPGATE_SQS_ENDPOINT');
  const stsEndpoint = env.optionalUrl('LOOPGATE_STS_ENDPOINT');
  return {
    ...readCommonSettings(env),
    region: env.string('AWS_REGION'),
    timeoutMs: env.positiveIntOr('LOOPGATE_HTTP_TIMEOUT_MS', 5000),
    revokeQueueUrl: env.url('LOOPGATE_REVOKE_QUEUE_URL'),
    decideQueueUrl: env.url('LOOPGATE_DECIDE_QUEUE_URL'),
    jiraStatuses: jiraStatuses(env, ['cancelled']),
    ...(sqsEndpoint ? { sqsEndpoint } : {}),
    ...(stsEndpoint ? { stsEndpoint } : {}),
  };
}

/** `loopgate grants --verify`: read access to the systems that hold grants (Okta, IAM). */
export interface OperatorVerifyConfig extends CommonSettings {
  region: string;
  timeoutMs: number;
  companyEmailDomain: string;
  /** A read-only Okta token is enough: the check only reads group memberships. */
  okta: { orgUrl: string; token: string };
  iamEndpoint?: string;
  identityCenter: ProvisionConfig['identityCenter'];
}

export function readOperatorVerifyConfig(env = new Env()): OperatorVerifyConfig {
  const iamEndpoint = env.optionalUrl('LOOPGATE_IAM_ENDPOINT');
  return {
    ...readCommonSettings(env),
    region: env.string('AWS_REGION'),
    timeoutMs: env.positiveIntOr('LOOPGATE_HTTP_TIMEOUT_MS', 5000),
    companyEmailDomain: env.string('LOOPGATE_COMPANY_EMAIL_DOMAIN').toLowerCase(),
    okta: { orgUrl: env.url('LOOPGATE_OKTA_ORG_URL'), token: env.string('LOOPGATE_OKTA_TOKEN') },
    ...(iamEndpoint ? { iamEndpoint } : {}),
    identityCenter: readIdentityCenter(env),
  };
}
