// loopgate's seven functions on the local Lambda host, with the queues, event
// source mappings and schedule group the stack gives them (lib/app-stack.ts).
// The sandbox runs them against the stand-ins; `loopgate dev` runs the same
// handlers against the real services.

import { randomBytes } from 'node:crypto';
import { CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import type { Context } from 'aws-lambda';
import { createDecideHandler, MAX_DECIDE_ATTEMPTS } from '../lambdas/handlers/decide';
import { createJiraWebhookHandler } from '../lambdas/handlers/jira-webhook';
import { createPagerDutyWebhookHandler } from '../lambdas/handlers/pagerduty-webhook';
import { createProvisionHandler, MAX_ATTEMPTS } from '../lambdas/handlers/provision';
import { createRevokeHandler } from '../lambdas/handlers/revoke';
import { createSweeperHandler } from '../lambdas/handlers/sweeper';
import { createTriageHandler } from '../lambdas/handlers/triage';
import {
  CollectingEnv,
  Env,
  readDecideConfig,
  readIntakeConfig,
  readPagerDutyWebhookConfig,
  readProvisionConfig,
  readTriageConfig,
} from '../lambdas/platform/env';
import { invocationScope } from '../lambdas/platform/lambda-context';
import { wireDecide } from '../lambdas/wiring/decide';
import { wirePagerDutyWebhook } from '../lambdas/wiring/pagerduty-webhook';
import { wireIntake } from '../lambdas/wiring/intake';
import { wireProvision } from '../lambdas/wiring/provision';
import type { WireOptions } from '../lambdas/wiring/shared';
import { wireTriage } from '../lambdas/wiring/triage';
import type { SandboxClock } from './clock';
import { type LambdaFunction, LambdaHost } from './lambda-host';

export const TRIAGE_QUEUE = 'loopgate-triage';
/** Approved requests wait here for the provisioning function (the next stage). */
export const PROVISION_QUEUE = 'loopgate-provision';
/** Early revokes wait here for the revoke function. */
export const REVOKE_QUEUE = 'loopgate-revoke';
/** Verified PagerDuty events wait here for the decide function. */
export const DECIDE_QUEUE = 'loopgate-decide';
const DECIDE_DLQ = 'loopgate-decide-dlq';
const TRIAGE_DLQ = 'loopgate-triage-dlq';
const PROVISION_DLQ = 'loopgate-provision-dlq';
const REVOKE_DLQ = 'loopgate-revoke-dlq';
export const SCHEDULE_GROUP = 'loopgate-expiry';

/** loopgate's functions behind Function URLs; their webhook URLs are known before the handlers are registered. */
export const WEBHOOK_FUNCTIONS = { jira: 'jira-webhook', pagerduty: 'pagerduty-webhook' } as const;
export const TRIAGE_FUNCTION = 'triage';
export const DECIDE_FUNCTION = 'decide';
export const PROVISION_FUNCTIONS = { provision: 'provision', revoke: 'revoke', sweeper: 'sweeper' } as const;

export interface LoopgateHost {
  host: LambdaHost;
  /** Builds the seven handlers from `env`, as each function's cold start would; throws ConfigurationError naming what is missing. */
  serve(env: Record<string, string>, options: WireOptions): void;
}

/**
 * The host with loopgate's functions, queues and schedule group. It can start (and its URLs be
 * handed to the services that call it) before the handlers exist: a call before `serve` fails.
 */
export function loopgateHost(
  clock: SandboxClock,
  ports: { functionUrls?: number; sqs?: number; scheduler?: number } = {},
): LoopgateHost {
  const functions: Record<string, (event: never) => Promise<unknown>> = {};
  // One per function, made anew by each `serve` (a cold start): every invocation's log lines carry
  // its context, and a trace header like the one Lambda sets with active tracing.
  const scopes: Record<string, ReturnType<typeof invocationScope>> = {};
  const traceHeader = () =>
    `Root=1-${Math.floor(clock.now().getTime() / 1000).toString(16)}-${randomBytes(12).toString('hex')};` +
    `Parent=${randomBytes(8).toString('hex')};Sampled=1`;
  const served = (name: string, timeoutSeconds?: number): LambdaFunction => ({
    name,
    ...(timeoutSeconds ? { timeoutSeconds } : {}),
    handler: (event: never, context: Context) => {
      const fn = functions[name];
      if (!fn) throw new Error(`${name} is not ready yet`);
      scopes[name] ??= invocationScope(traceHeader);
      return scopes[name](context, () => fn(event));
    },
  });
  const retried = (name: string, deadLetterQueue: string, maxReceiveCount: number) => [
    { name: deadLetterQueue },
    { name, visibilityTimeoutSeconds: 60, redrivePolicy: { deadLetterQueue, maxReceiveCount } },
  ];
  const host = new LambdaHost({
    clock,
    functions: [
      served(WEBHOOK_FUNCTIONS.jira),
      served(WEBHOOK_FUNCTIONS.pagerduty),
      served(TRIAGE_FUNCTION, 60),
      served(DECIDE_FUNCTION, 60),
      served(PROVISION_FUNCTIONS.provision, 60),
      served(PROVISION_FUNCTIONS.revoke, 60),
      served(PROVISION_FUNCTIONS.sweeper, 120),
    ],
    queues: [
      ...retried(TRIAGE_QUEUE, TRIAGE_DLQ, 5),
      ...retried(PROVISION_QUEUE, PROVISION_DLQ, MAX_ATTEMPTS),
      ...retried(REVOKE_QUEUE, REVOKE_DLQ, MAX_ATTEMPTS),
      ...retried(DECIDE_QUEUE, DECIDE_DLQ, MAX_DECIDE_ATTEMPTS),
    ],
    eventSourceMappings: [
      { queue: TRIAGE_QUEUE, functionName: TRIAGE_FUNCTION, batchSize: 5 },
      { queue: PROVISION_QUEUE, functionName: PROVISION_FUNCTIONS.provision, batchSize: 5 },
      { queue: REVOKE_QUEUE, functionName: PROVISION_FUNCTIONS.revoke, batchSize: 5 },
      { queue: DECIDE_QUEUE, functionName: DECIDE_FUNCTION, batchSize: 5 },
    ],
    scheduleGroups: [SCHEDULE_GROUP],
    ports,
  });

  const serve = (env: Record<string, string>, options: WireOptions) => {
    const intake = wireIntake(readIntakeConfig(new Env(env)), options);
    const triage = wireTriage(readTriageConfig(new Env(env)), options);
    const webhook = wirePagerDutyWebhook(readPagerDutyWebhookConfig(new Env(env)), options);
    const decide = wireDecide(readDecideConfig(new Env(env)), options);
    const provisionConfig = readProvisionConfig(new Env(env));
    const provisioning = (name: 'provision' | 'revoke' | 'sweeper') =>
      wireProvision(provisionConfig, name, options);
    const provision = provisioning('provision');
    const revoke = provisioning('revoke');
    const sweeper = provisioning('sweeper');
    for (const name of Object.keys(scopes)) delete scopes[name];
    Object.assign(functions, {
      [WEBHOOK_FUNCTIONS.jira]: createJiraWebhookHandler(intake.deps, intake.settings, intake.logger),
      [TRIAGE_FUNCTION]: createTriageHandler(triage.deps, triage.settings, triage.logger),
      [WEBHOOK_FUNCTIONS.pagerduty]: createPagerDutyWebhookHandler(
        webhook.deps,
        webhook.settings,
        webhook.logger,
      ),
      [DECIDE_FUNCTION]: createDecideHandler(decide.deps, decide.settings, decide.logger),
      [PROVISION_FUNCTIONS.provision]: createProvisionHandler(
        provision.deps,
        provision.settings,
        provision.logger,
      ),
      [PROVISION_FUNCTIONS.revoke]: createRevokeHandler(
        revoke.deps,
        revoke.settings,
        revoke.logger,
        revoke.metrics,
      ),
      [PROVISION_FUNCTIONS.sweeper]: createSweeperHandler(
        sweeper.deps,
        sweeper.settings,
        sweeper.logger,
        sweeper.metrics,
      ),
    });
  };
  return { host, serve };
}

/**
 * Every missing or invalid setting of the seven functions, each once, in the order the functions
 * read them: what `serve` would stop at, one at a time. Empty when `serve` can build them all.
 */
export function settingsProblems(env: Record<string, string>): string[] {
  const collecting = new CollectingEnv(env);
  readIntakeConfig(collecting);
  readTriageConfig(collecting);
  readPagerDutyWebhookConfig(collecting);
  readDecideConfig(collecting);
  readProvisionConfig(collecting);
  return collecting.problems;
}

/** What the functions need to reach the host's queues, scheduler and revoke function. */
export function hostEnvironment(host: LambdaHost, accountId: string): Record<string, string> {
  return {
    LOOPGATE_TRIAGE_QUEUE_URL: host.sqs.queueUrl(TRIAGE_QUEUE),
    LOOPGATE_PROVISION_QUEUE_URL: host.sqs.queueUrl(PROVISION_QUEUE),
    LOOPGATE_REVOKE_QUEUE_URL: host.sqs.queueUrl(REVOKE_QUEUE),
    LOOPGATE_DECIDE_QUEUE_URL: host.sqs.queueUrl(DECIDE_QUEUE),
    LOOPGATE_SQS_ENDPOINT: host.urls.sqs,
    LOOPGATE_SCHEDULER_ENDPOINT: host.urls.scheduler,
    LOOPGATE_SCHEDULE_GROUP: SCHEDULE_GROUP,
    LOOPGATE_REVOKE_FUNCTION_ARN: host.invoker.functionArn(PROVISION_FUNCTIONS.revoke),
    LOOPGATE_SCHEDULER_ROLE_ARN: `arn:aws:iam::${accountId}:role/loopgate-scheduler`,
  };
}

/** The stack's rate(5 minutes) sweeper rule, as a schedule on the host's Scheduler. */
export async function scheduleSweeper(
  host: LambdaHost,
  env: Record<string, string>,
  credentials: { accessKeyId: string; secretAccessKey: string },
): Promise<void> {
  const client = new SchedulerClient({
    endpoint: host.urls.scheduler,
    region: env.AWS_REGION ?? 'us-east-1',
    credentials,
  });
  try {
    await client.send(
      new CreateScheduleCommand({
        Name: 'loopgate-sweeper',
        ScheduleExpression: 'rate(5 minutes)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: {
          Arn: host.invoker.functionArn(PROVISION_FUNCTIONS.sweeper),
          RoleArn: env.LOOPGATE_SCHEDULER_ROLE_ARN ?? '',
          Input: '{}',
        },
      }),
    );
  } finally {
    client.destroy();
  }
}
