// The integration secrets and the keys each may hold: one secret per
// integration, each a JSON object of the LOOPGATE_* variables it supplies. The
// CDK app creates the secrets from this (lib/integration-secrets.ts) and the
// cold-start loader (secrets.ts) refuses any key a secret does not own, so
// whoever may write one secret cannot set another integration's settings
// (point LOOPGATE_OKTA_ORG_URL elsewhere and receive the Okta token).

export interface IntegrationSecret {
  /** The last part of the secret's name, `loopgate/<stage>/<name>`. */
  name: string;
  description: string;
  /** Keys the operator must fill, with what each holds. */
  keys: Record<string, string>;
  /** Keys that may be added, with when. */
  optionalKeys?: Record<string, string>;
}

export const SECRET_IDS = [
  'jira',
  'jiraWebhook',
  'pagerduty',
  'pagerdutyWebhook',
  'okta',
  'slack',
  'model',
] as const;
export type SecretId = (typeof SECRET_IDS)[number];

export const INTEGRATION_SECRETS: Record<SecretId, IntegrationSecret> = {
  jira: {
    name: 'jira',
    description: 'Jira Cloud REST API: the email and API token of the account loopgate comments as',
    keys: {
      LOOPGATE_JIRA_EMAIL: 'the Atlassian account email of the loopgate user',
      LOOPGATE_JIRA_API_TOKEN: 'an API token of that account (id.atlassian.com → Security → API tokens)',
    },
  },
  jiraWebhook: {
    name: 'jira-webhook',
    description: 'Jira admin webhook secret(s) that sign deliveries (X-Hub-Signature)',
    keys: {
      LOOPGATE_JIRA_WEBHOOK_SECRETS: 'the webhook secret; "new,old" (comma-separated) while rotating',
    },
    optionalKeys: {
      LOOPGATE_JIRA_AUTOMATION_SECRET:
        'the value of the header named by jira.automationHeader, for Jira Automation web requests',
    },
  },
  pagerduty: {
    name: 'pagerduty',
    description: 'PagerDuty REST API key (pages, notes, on-call and user lookups)',
    keys: { LOOPGATE_PAGERDUTY_TOKEN: 'a REST API key (general access, not read-only)' },
  },
  pagerdutyWebhook: {
    name: 'pagerduty-webhook',
    description: 'PagerDuty v3 webhook subscription signing secret(s) (X-PagerDuty-Signature)',
    keys: {
      LOOPGATE_PAGERDUTY_WEBHOOK_SECRETS: 'the signing secret; "new,old" (comma-separated) while rotating',
    },
  },
  okta: {
    name: 'okta',
    description: 'Okta API token (SSWS) of the loopgate service account',
    keys: { LOOPGATE_OKTA_TOKEN: 'an Okta API token' },
  },
  slack: {
    name: 'slack',
    description: 'Slack token for context: a user token (xoxp, search:read) or a bot token (xoxb)',
    keys: { LOOPGATE_SLACK_TOKEN: 'xoxp-… for slack.mode search, xoxb-… for slack.mode history' },
  },
  model: {
    name: 'model',
    description: 'API key of the OpenAI or OpenAI-compatible model; leave {} to run without advice',
    keys: {},
    optionalKeys: {
      LOOPGATE_MODEL_API_KEY: 'the model API key; absent, triage pages without a recommendation',
    },
  },
};

/** Every key the secret may hold: the ones the operator must fill and the optional ones. */
export function secretKeys(secret: SecretId): string[] {
  const { keys, optionalKeys = {} } = INTEGRATION_SECRETS[secret];
  return [...Object.keys(keys), ...Object.keys(optionalKeys)];
}

/** The secret a key belongs in, or undefined when it is no secret's key. */
export function secretOwning(key: string): SecretId | undefined {
  return SECRET_IDS.find((secret) => secretKeys(secret).includes(key));
}

export const isSecretId = (value: string): value is SecretId =>
  (SECRET_IDS as readonly string[]).includes(value);
