// Builds the triage function's dependencies from its configuration, once per cold start.

import { createIamClient } from '../connectors/aws-iam/client';
import { IamCloudAccess } from '../connectors/aws-iam/cloud-access';
import { createOktaClient, OktaDirectory, OktaStepUp } from '../connectors/okta';
import { createPagerDutyClient } from '../connectors/pagerduty/client';
import { PagerDutyOnCall } from '../connectors/pagerduty/on-call';
import { SlackChatSearch } from '../connectors/slack/chat-search';
import { createSlackClient } from '../connectors/slack/client';
import type { TriageDeps, TriageSettings } from '../core/triage/triage';
import { checkPolicyLinks } from '../core/triage/policy';
import { JiraTracker } from '../connectors/jira/tracker';
import { OpenAiAdvisor } from '../connectors/openai/advisor';
import { PagerDutyPager } from '../connectors/pagerduty/pager';
import { loadCatalogFile } from '../platform/catalog-file';
import { loadPolicy, loadPromptTemplates } from '../platform/prompt-files';
import { PROVISION_DUE_MS, type TriageConfig } from '../platform/env';
import { Logger } from '../platform/logger';
import { estimateTokens } from '../platform/token-estimate';
import {
  awsCredentials,
  clockOf,
  functionRequestStore,
  jiraClient,
  sqsWorkQueue,
  type WireOptions,
} from './shared';

/**
 * IAM users are named by the local part of a company email (dana.reyes@example.com → dana.reyes).
 * Anyone else has no IAM user: `alice@contractor.io` must never be shown employee alice's access.
 */
export function iamUserOf(email: string, companyDomain: string): { kind: 'user'; name: string } | undefined {
  const at = email.lastIndexOf('@');
  const local = email.slice(0, at);
  return at > 0 && email.slice(at + 1).toLowerCase() === companyDomain
    ? { kind: 'user', name: local }
    : undefined;
}

function slackSearch(settings: Exclude<TriageConfig['slack'], { mode: 'off' }>, timeoutMs: number) {
  const client = createSlackClient({
    token: settings.token,
    ...(settings.apiUrl ? { slackApiUrl: settings.apiUrl } : {}),
    timeoutMs,
    retries: 1,
  });
  return new SlackChatSearch(
    settings.mode === 'history'
      ? { client, maxMessages: 20, mode: 'history', channelIds: settings.channelIds }
      : { client, maxMessages: 20, mode: 'search' },
  );
}

export function wireTriage(
  config: TriageConfig,
  options: WireOptions = {},
): { deps: TriageDeps; settings: TriageSettings; logger: Logger } {
  const { sourceTimeoutMs: timeoutMs } = config;
  const okta = createOktaClient({
    orgUrl: config.okta.orgUrl,
    token: config.okta.token,
    timeoutMs,
    maxRetries: 1,
  });
  const iam = createIamClient({
    region: config.region,
    ...(config.iamEndpoint ? { endpoint: config.iamEndpoint } : {}),
    ...awsCredentials(config),
    timeoutMs,
    maxAttempts: 2,
  });
  const pagerDuty = createPagerDutyClient({
    token: config.pagerduty.token,
    ...(config.pagerduty.baseUrl ? { baseUrl: config.pagerduty.baseUrl } : {}),
    from: config.pagerduty.from,
    timeoutMs,
  });
  const jira = jiraClient(config.jira, timeoutMs);
  const catalog = loadCatalogFile(config.catalogFile);
  const policyChunks = loadPolicy(config.policyDir);
  checkPolicyLinks(catalog, policyChunks);
  return {
    deps: {
      store: functionRequestStore(config, 'triage', catalog, options),
      directory: new OktaDirectory({ client: okta, maxSignIns: 100 }),
      cloud: new IamCloudAccess({
        client: iam,
        lastAccessedWaitMs: Math.floor(timeoutMs / 2),
        pollIntervalMs: 250,
      }),
      ...(config.slack.mode === 'off' ? {} : { chat: slackSearch(config.slack, timeoutMs) }),
      onCall: new PagerDutyOnCall(pagerDuty),
      shifts: {
        directory: new OktaDirectory({ client: okta, maxSignIns: 100 }),
        calendar: new PagerDutyOnCall(pagerDuty),
        identity: config.identity,
      },
      clock: clockOf(options),
      catalog,
      policyChunks,
      // An estimate that errs high: gpt-tokenizer's encoding was 2.7 MB of this bundle.
      countTokens: estimateTokens,
      prompt: loadPromptTemplates(config.promptDir),
      ...(config.model
        ? {
            advisor: new OpenAiAdvisor(
              config.model,
              config.sandboxAwsCredentials ? { credentials: config.sandboxAwsCredentials } : {},
            ),
          }
        : {}),
      pager: new PagerDutyPager(pagerDuty),
      queue: sqsWorkQueue(config, timeoutMs, {
        provision: config.provisionQueueUrl,
        triage: config.triageQueueUrl,
      }),
      stepUp: new OktaStepUp({ client: okta }),
      tracker: new JiraTracker(jira),
    },
    settings: {
      gather: {
        perSourceTimeoutMs: timeoutMs,
        budgetMs: config.budgetMs,
        iamPrincipalFor: (email) => iamUserOf(email, config.companyEmailDomain),
      },
      tokenBudget: config.tokenBudget,
      links: { jiraBaseUrl: config.jira.baseUrl },
      decisionTimeoutMs: config.decisionTimeoutMs,
      provisionDueMs: PROVISION_DUE_MS,
    },
    logger: new Logger({
      service: 'triage',
      level: config.logLevel,
      ...(options.log ? { write: options.log } : {}),
    }),
  };
}
