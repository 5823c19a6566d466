// The whole local world of `npm run sandbox`: DynamoDB Local with the loopgate
// table, the six vendor stand-ins seeded from one scenario, the local Lambda
// host, and the control API, all on one clock. Stopping it stops everything it
// started, the Java process included.

import { randomBytes } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createTableInput } from '../lambdas/connectors/dynamodb/create-table';
import type { DynamoRequestStore } from '../lambdas/connectors/dynamodb/request-store';
import { requestStore } from '../lambdas/wiring/shared';
import { SandboxClock } from './clock';
import { ControlApi } from './control';
import { localClientConfig, startDynamoDbLocal } from './dynamodb-local';
import { IamStandIn } from './iam/stand-in';
import { IdentityCenterStandIn } from './identity-center/stand-in';
import { JiraStandIn } from './jira/jira-stand-in';
import type { LambdaHost } from './lambda-host';
import {
  DECIDE_QUEUE,
  hostEnvironment,
  loopgateHost,
  scheduleSweeper,
  WEBHOOK_FUNCTIONS,
} from './loopgate-host';
import { OktaStandIn, type OktaStandInOptions } from './okta/stand-in';
import { OpenAiStandIn } from './openai/stand-in';
import { PagerDutyStandIn } from './pagerduty/stand-in';
import { DEFAULT_SCENARIO_FILE, loadScenarioFile, type Scenario } from './scenario/load';
import { SlackStandIn, type SlackStandInOptions } from './slack/stand-in';
import { StsStandIn } from './sts/stand-in';

export const TABLE_NAME = 'loopgate';
export {
  PROVISION_FUNCTIONS,
  PROVISION_QUEUE,
  REVOKE_QUEUE,
  SCHEDULE_GROUP,
  TRIAGE_FUNCTION,
  TRIAGE_QUEUE,
  WEBHOOK_FUNCTIONS,
} from './loopgate-host';

export interface SandboxOptions {
  scenarioFile?: string;
  /** Fixed ports from this base (control at base, then jira, pagerduty, okta, slack, iam, openai, dynamodb, …, identity center); free ports if absent. */
  portBase?: number;
  /** Okta's per-minute limits (benchmarks raise them to measure loopgate rather than the limit). */
  oktaRateLimits?: OktaStandInOptions['rateLimits'];
  /** Slack's per-minute limits by method (search.messages allows 20 a minute). */
  slackRateLimits?: SlackStandInOptions['rateLimits'];
  /** Where loopgate's own log lines go (JSON, one per line); stderr unless set. */
  log?: (line: string) => void;
  /** Human-readable progress. */
  progress?: (line: string) => void;
  /** Changes to the functions' environment (undefined removes a variable), e.g. a shorter model timeout or no model at all. */
  environment?: Record<string, string | undefined>;
  /**
   * Run the sweeper every 5 minutes of sandbox time, as the stack does (`loopgate sandbox` and the
   * demo). Off by default: tests sweep when they choose, so that they see what a sweep changes.
   */
  sweeper?: boolean;
}

/** Everything a script needs to reach the sandbox: its first stdout line. */
export interface SandboxSummary {
  webhooks: {
    jira: { url: string; secret: string };
    pagerduty: { url: string; secrets: string[] };
  };
  services: Record<
    'jira' | 'pagerduty' | 'okta' | 'slack' | 'iam' | 'identityCenter' | 'sts' | 'openai' | 'dynamodb',
    string
  >;
  control: string;
  lambda: { functionUrls: string; sqs: string; scheduler: string };
  table: string;
  credentials: SandboxCredentials;
}

export interface SandboxCredentials {
  jira: { email: string; apiToken: string };
  pagerduty: { token: string; from: string };
  okta: { token: string };
  slack: { botToken: string; userToken: string };
  iam: { accessKeyId: string; secretAccessKey: string };
  /** An operator's AWS key for the operator's commands (`loopgate revoke`…): STS names it `arn`. */
  operator: { accessKeyId: string; secretAccessKey: string; arn: string };
  openai: { apiKey: string };
}

/** The functions' AWS_REGION, and the region the Bedrock path expects signatures for. */
export const SANDBOX_REGION = 'us-east-1';

const PORT_OFFSETS = {
  control: 0,
  jira: 1,
  pagerduty: 2,
  okta: 3,
  slack: 4,
  iam: 5,
  openai: 6,
  dynamodb: 7,
  functionUrls: 8,
  sqs: 9,
  scheduler: 10,
  identityCenter: 11,
  sts: 12,
} as const;

export interface SandboxServices {
  jira: JiraStandIn;
  pagerduty: PagerDutyStandIn;
  okta: OktaStandIn;
  slack: SlackStandIn;
  iam: IamStandIn;
  identityCenter: IdentityCenterStandIn;
  sts: StsStandIn;
  openai: OpenAiStandIn;
}

interface Startable {
  start(port: number): Promise<string>;
  stop(): Promise<void>;
}

export class Sandbox {
  readonly control: ControlApi;
  /** loopgate's own records, read the way the functions read them. */
  readonly store: DynamoRequestStore;
  readonly jira: JiraStandIn;
  readonly pagerduty: PagerDutyStandIn;
  readonly okta: OktaStandIn;
  readonly slack: SlackStandIn;
  readonly iam: IamStandIn;
  readonly identityCenter: IdentityCenterStandIn;
  readonly sts: StsStandIn;
  readonly openai: OpenAiStandIn;

  private constructor(
    readonly clock: SandboxClock,
    readonly scenario: Scenario,
    readonly credentials: SandboxCredentials,
    readonly secrets: { jira: string; pagerduty: string[] },
    readonly services: SandboxServices,
    readonly host: LambdaHost,
    readonly dynamoDbEndpoint: string,
    private readonly stoppers: (() => Promise<void>)[],
    private environment: Record<string, string | undefined>,
    /** Builds every function's handler from an environment, as a cold start does. */
    private readonly serveFunctions: (env: Record<string, string>) => void,
  ) {
    ({
      jira: this.jira,
      pagerduty: this.pagerduty,
      okta: this.okta,
      slack: this.slack,
      iam: this.iam,
      identityCenter: this.identityCenter,
      sts: this.sts,
      openai: this.openai,
    } = services);
    this.store = requestStore({
      tableName: TABLE_NAME,
      logLevel: 'warn',
      dynamoDbEndpoint,
      sandboxAwsCredentials: credentials.iam,
    });
    this.control = new ControlApi(this);
  }

  static async start(options: SandboxOptions = {}): Promise<Sandbox> {
    const progress = options.progress ?? (() => {});
    const scenarioFile = options.scenarioFile ?? DEFAULT_SCENARIO_FILE;
    const scenario = loadScenarioFile(scenarioFile);
    const clock = new SandboxClock({ start: scenario.start });
    const port = (name: keyof typeof PORT_OFFSETS) =>
      options.portBase === undefined ? 0 : options.portBase + PORT_OFFSETS[name];
    progress(`scenario ${scenarioFile}: ${scenario.company.name}, ${scenario.people.length} people`);
    const credentials = newCredentials(scenario);
    const secrets = { jira: secret(), pagerduty: [secret()] };
    const stoppers: (() => Promise<void>)[] = [];
    const started = async (service: Startable, at: number) => {
      await service.start(at);
      stoppers.push(() => service.stop());
    };

    try {
      // DynamoDB Local takes seconds to boot: start it first and everything else meanwhile.
      progress('starting DynamoDB Local (Java), the Lambda host and the stand-ins …');
      const dynamoStarting = startDynamoDbLocal(port('dynamodb'));
      dynamoStarting.then(
        (d) => stoppers.push(() => d.stop()),
        () => {},
      );

      // The host comes first: the Jira and PagerDuty webhooks point at its Function URLs.
      // loopgate's handlers are built once the stand-ins they call are up.
      const { host, serve } = loopgateHost(clock, {
        functionUrls: port('functionUrls'),
        sqs: port('sqs'),
        scheduler: port('scheduler'),
      });
      await host.start();
      stoppers.push(() => host.stop());
      const webhookUrl = (vendor: keyof typeof WEBHOOK_FUNCTIONS) =>
        `${host.urls.functionUrls}/${WEBHOOK_FUNCTIONS[vendor]}`;

      const services: SandboxServices = {
        jira: new JiraStandIn({
          scenario,
          clock,
          credentials: [credentials.jira],
          webhook: {
            url: webhookUrl('jira'),
            secret: secrets.jira,
            // What the setup guide tells admins to pick: new tickets, updates (a ticket closed), and
            // comments (a requester's revoke).
            events: ['jira:issue_created', 'jira:issue_updated', 'comment_created'],
          },
        }),
        pagerduty: new PagerDutyStandIn({
          scenario,
          clock,
          apiTokens: [credentials.pagerduty.token],
          webhook: { url: webhookUrl('pagerduty'), secrets: secrets.pagerduty },
        }),
        okta: new OktaStandIn({
          scenario,
          clock,
          apiTokens: [credentials.okta.token],
          ...(options.oktaRateLimits ? { rateLimits: options.oktaRateLimits } : {}),
        }),
        slack: new SlackStandIn({
          scenario,
          clock,
          botTokens: [credentials.slack.botToken],
          userTokens: [credentials.slack.userToken],
          ...(options.slackRateLimits ? { rateLimits: options.slackRateLimits } : {}),
        }),
        // The operator's key reads IAM too (`loopgate grants --verify`).
        iam: new IamStandIn({ scenario, clock, credentials: [credentials.iam, credentials.operator] }),
        sts: new StsStandIn({
          clock,
          identities: [
            {
              ...credentials.iam,
              arn: `arn:aws:sts::${scenario.aws.accountId}:assumed-role/loopgate-sandbox-functions/loopgate`,
            },
            credentials.operator,
          ],
        }),
        // Signed with the same AWS keys as IAM (one role calls both in AWS); the operator reads it back.
        identityCenter: new IdentityCenterStandIn({
          scenario,
          clock,
          credentials: [credentials.iam, credentials.operator],
        }),
        // Bedrock's path takes the functions' own AWS keys (the sandbox's), in the sandbox's region.
        openai: new OpenAiStandIn({
          clock,
          apiKeys: [credentials.openai.apiKey],
          bedrock: { credentials: [credentials.iam], region: SANDBOX_REGION },
        }),
      };
      await Promise.all(
        Object.entries(services).map(([name, s]) => started(s, port(name as keyof SandboxServices))),
      );

      const dynamo = await dynamoStarting;
      await createTable(dynamo.endpoint);
      progress(`DynamoDB Local at ${dynamo.endpoint} with the table "${TABLE_NAME}"`);

      const environment = options.environment ?? {};
      const env = withChanges(
        loopgateEnvironment({
          scenario,
          credentials,
          secrets,
          services,
          host,
          dynamoEndpoint: dynamo.endpoint,
        }),
        environment,
      );
      const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
      const serveFunctions = (functionEnv: Record<string, string>) => serve(functionEnv, { log, clock });
      serveFunctions(env);

      if (options.sweeper) await scheduleSweeper(host, env, credentials.iam);

      const sandbox = new Sandbox(
        clock,
        scenario,
        credentials,
        secrets,
        services,
        host,
        dynamo.endpoint,
        stoppers,
        environment,
        serveFunctions,
      );
      await started(sandbox.control, port('control'));
      return sandbox;
    } catch (error) {
      await stopAll(stoppers);
      throw error;
    }
  }

  /** The environment loopgate's functions run with in this sandbox. */
  loopgateEnvironment(): Record<string, string> {
    return withChanges(
      loopgateEnvironment({
        scenario: this.scenario,
        credentials: this.credentials,
        secrets: this.secrets,
        services: this.services,
        host: this.host,
        dynamoEndpoint: this.dynamoDbEndpoint,
      }),
      this.environment,
    );
  }

  /**
   * A deploy: every function starts cold again, with `changes` to its environment (undefined
   * removes a variable), e.g. another `LOOPGATE_CATALOG_FILE`. The table, the queues and their
   * messages, the schedules and the stand-ins' state stay as they are, as they do on AWS; an
   * invocation already running finishes with the code it started with.
   */
  redeploy(changes: Record<string, string | undefined>): void {
    const previous = this.environment;
    this.environment = { ...previous, ...changes };
    try {
      this.serveFunctions(this.loopgateEnvironment());
    } catch (error) {
      // A bad environment fails before any handler is replaced: the previous deploy keeps running.
      this.environment = previous;
      throw error;
    }
  }

  /**
   * Waits until PagerDuty's webhook deliveries are answered and the decide function has handled
   * every event visible now (and the notes it wrote, delivered in turn). Only the decide queue is
   * pumped: the other stages run as the background polling runs them, or as a test plays them.
   * Messages delayed to a later time (an Okta Verify push polled again) wait for the clock.
   */
  async settled(): Promise<void> {
    for (let pass = 0; pass < 20; pass++) {
      await this.pagerduty.settled();
      if ((await this.host.sqs.pump([DECIDE_QUEUE])) === 0) {
        await this.pagerduty.settled();
        if ((await this.host.sqs.pump([DECIDE_QUEUE])) === 0) return;
      }
    }
    throw new Error('the sandbox did not settle in 20 passes (a handler keeps producing work?)');
  }

  webhookUrl(vendor: keyof typeof WEBHOOK_FUNCTIONS): string {
    return `${this.host.urls.functionUrls}/${WEBHOOK_FUNCTIONS[vendor]}`;
  }

  summary(): SandboxSummary {
    return {
      webhooks: {
        jira: { url: this.webhookUrl('jira'), secret: this.secrets.jira },
        pagerduty: { url: this.webhookUrl('pagerduty'), secrets: this.secrets.pagerduty },
      },
      services: {
        jira: this.jira.url,
        pagerduty: this.pagerduty.url,
        okta: this.okta.url,
        slack: this.slack.url,
        iam: this.iam.url,
        identityCenter: this.identityCenter.url,
        sts: this.sts.url,
        openai: `${this.openai.url}/v1`,
        dynamodb: this.dynamoDbEndpoint,
      },
      control: this.control.url,
      lambda: this.host.urls,
      table: TABLE_NAME,
      credentials: this.credentials,
    };
  }

  /** Stops everything that was started, newest first; safe to call twice. */
  stop(): Promise<void> {
    return stopAll(this.stoppers);
  }
}

async function stopAll(stoppers: (() => Promise<void>)[]): Promise<void> {
  for (const stop of stoppers.splice(0).reverse()) await stop().catch(() => {});
}

/** The environment loopgate's functions would have on AWS, pointed at the stand-ins. */
function loopgateEnvironment(world: {
  scenario: Scenario;
  credentials: SandboxCredentials;
  secrets: { jira: string; pagerduty: string[] };
  services: SandboxServices;
  host: LambdaHost;
  dynamoEndpoint: string;
}): Record<string, string> {
  const { scenario, credentials, secrets, services, host } = world;
  const fields = scenario.jira.fields;
  return {
    LOOPGATE_STAGE: 'sandbox',
    LOOPGATE_TABLE_NAME: TABLE_NAME,
    LOOPGATE_DYNAMODB_ENDPOINT: world.dynamoEndpoint,
    LOOPGATE_SANDBOX_AWS_ACCESS_KEY_ID: credentials.iam.accessKeyId,
    LOOPGATE_SANDBOX_AWS_SECRET_ACCESS_KEY: credentials.iam.secretAccessKey,
    LOOPGATE_CATALOG_FILE: 'config/catalog.yaml',
    ...hostEnvironment(host, scenario.aws.accountId),
    AWS_REGION: SANDBOX_REGION,
    LOOPGATE_JIRA_STATUS_GRANTED: 'Granted',
    LOOPGATE_JIRA_STATUS_REVOKED: 'Done',
    LOOPGATE_PAGERDUTY_WEBHOOK_SECRETS: secrets.pagerduty.join(','),
    // The stand-in's workflow: Open → In Review → Approved → Granted, Declined, Cancelled, Done.
    LOOPGATE_JIRA_STATUS_APPROVED: 'Approved',
    LOOPGATE_JIRA_STATUS_DENIED: 'Declined',
    LOOPGATE_JIRA_STATUS_CANCELLED: 'Cancelled',
    LOOPGATE_JIRA_BASE_URL: services.jira.url,
    LOOPGATE_JIRA_EMAIL: credentials.jira.email,
    LOOPGATE_JIRA_API_TOKEN: credentials.jira.apiToken,
    LOOPGATE_JIRA_WEBHOOK_SECRETS: secrets.jira,
    LOOPGATE_JIRA_PROJECTS: scenario.jira.projects[0]?.key ?? 'ACCESS',
    LOOPGATE_JIRA_ISSUE_TYPES: 'Access Request',
    LOOPGATE_JIRA_FIELD_ENTITLEMENT: fields.entitlement,
    LOOPGATE_JIRA_FIELD_DURATION: fields.duration,
    LOOPGATE_JIRA_FIELD_JUSTIFICATION: fields.justification,
    LOOPGATE_OKTA_ORG_URL: services.okta.url,
    LOOPGATE_OKTA_TOKEN: credentials.okta.token,
    LOOPGATE_POLICY_DIR: 'prompts/policy',
    LOOPGATE_COMPANY_EMAIL_DOMAIN: scenario.company.domain,
    LOOPGATE_IAM_ENDPOINT: services.iam.url,
    LOOPGATE_IDENTITY_CENTER_ENDPOINT: services.identityCenter.url,
    // Assignments settle after a poll or two here: short pauses keep the sandbox quick.
    LOOPGATE_IDENTITY_CENTER_POLL_MS: '50',
    LOOPGATE_IDENTITY_CENTER_WAIT_MS: '2000',
    LOOPGATE_STS_ENDPOINT: services.sts.url,
    LOOPGATE_SLACK_MODE: 'search',
    LOOPGATE_SLACK_TOKEN: credentials.slack.userToken,
    LOOPGATE_SLACK_API_URL: `${services.slack.url}/api/`,
    LOOPGATE_PAGERDUTY_TOKEN: credentials.pagerduty.token,
    LOOPGATE_PAGERDUTY_BASE_URL: services.pagerduty.url,
    LOOPGATE_PAGERDUTY_FROM: credentials.pagerduty.from,
    LOOPGATE_PROMPT_DIR: 'prompts/recommendation',
    // Any model id: the stand-in answers for it (with the rules responder unless a reply is scripted).
    LOOPGATE_MODEL: 'gpt-4o-mini',
    LOOPGATE_MODEL_API_KEY: credentials.openai.apiKey,
    LOOPGATE_MODEL_BASE_URL: `${services.openai.url}/v1`,
    // Short, so the sandbox shows a slow model's fallback without a long wait; retries waited out quickly.
    LOOPGATE_MODEL_TIMEOUT_MS: '5000',
  };
}

function withChanges(
  env: Record<string, string>,
  changes: Record<string, string | undefined>,
): Record<string, string> {
  const out = { ...env };
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) delete out[name];
    else out[name] = value;
  }
  return out;
}

async function createTable(endpoint: string): Promise<void> {
  const client = new DynamoDBClient(localClientConfig(endpoint));
  try {
    await client.send(new CreateTableCommand(createTableInput(TABLE_NAME)));
  } finally {
    client.destroy();
  }
}

const secret = () => randomBytes(24).toString('hex');

/** Fresh credentials for every run, shaped like each vendor's, so nothing from a run works in another. */
function newCredentials(scenario: Scenario): SandboxCredentials {
  const upper = (n: number) =>
    Array.from(randomBytes(n), (b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[b % 32]).join('');
  // loopgate writes to PagerDuty as its own user (the scenario's `loopgate` person) when there is one.
  const operator =
    (scenario.people.find((p) => p.id === 'loopgate') ?? scenario.people[0])?.email ??
    `loopgate@${scenario.company.domain}`;
  return {
    jira: { email: `loopgate-bot@${scenario.company.domain}`, apiToken: `ATATT${secret()}` },
    pagerduty: { token: `u+${secret().slice(0, 20)}`, from: operator },
    okta: { token: `00${secret().slice(0, 40)}` },
    slack: { botToken: `xoxb-sandbox-${secret()}`, userToken: `xoxp-sandbox-${secret()}` },
    iam: { accessKeyId: `AKIA${upper(16)}`, secretAccessKey: secret() },
    operator: {
      accessKeyId: `ASIA${upper(16)}`,
      secretAccessKey: secret(),
      arn: `arn:aws:sts::${scenario.aws.accountId}:assumed-role/loopgate-operator/sandbox-operator@${scenario.company.domain}`,
    },
    openai: { apiKey: `sk-sandbox-${secret()}` },
  };
}
