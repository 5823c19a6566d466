// Secret loading at cold start with the real Secrets Manager client, against a
// small local server that speaks Secrets Manager's JSON protocol
// (X-Amz-Target: secretsmanager.GetSecretValue): values land in the
// environment, and a malformed secret, or one that sets a key it does not own,
// fails naming the secret and key, never the value.

import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../lambdas/core/errors';
import { builtOnFirstCall } from '../../lambdas/platform/cold-start';
import { type SecretId, secretKeys } from '../../lambdas/platform/integration-secrets';
import { loadSecrets } from '../../lambdas/platform/secrets';

const ARN = (name: string) =>
  `arn:aws:secretsmanager:eu-west-1:111122223333:secret:loopgate/test/${name}-AbCdEf`;
/** A LOOPGATE_SECRET_ARNS entry: the secret's id and its ARN. */
const listed = (id: SecretId, name: string = id) => `${id}=${ARN(name)}`;
const VALUE = 'xoxp-very-secret-value-1234';

/** What the server holds: a secret's SecretString, or a Secrets Manager error. */
let stored: Map<string, { text: string } | { error: string; status: number }>;
let requests: { target: string | undefined; secretId: string; signed: boolean }[];
let server: Server;
let endpoint: string;

beforeAll(async () => {
  server = createServer(async (req, res) => {
    const body = JSON.parse(await read(req)) as { SecretId: string };
    requests.push({
      target: req.headers['x-amz-target'] as string | undefined,
      secretId: body.SecretId,
      signed: String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256'),
    });
    const secret = stored.get(body.SecretId) ?? {
      error: 'ResourceNotFoundException',
      status: 400,
    };
    res.setHeader('content-type', 'application/x-amz-json-1.1');
    if ('error' in secret) {
      res.statusCode = secret.status;
      res.end(JSON.stringify({ __type: secret.error, message: `${secret.error} for this test` }));
      return;
    }
    res.end(JSON.stringify({ ARN: body.SecretId, Name: 'loopgate/test', SecretString: secret.text }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  stored = new Map();
  requests = [];
});

function read(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The environment of a function whose secrets are `entries` (id=ARN), pointed at the local server. */
function environment(...entries: string[]): Record<string, string> {
  return {
    LOOPGATE_SECRET_ARNS: entries.join(','),
    LOOPGATE_SECRETS_ENDPOINT: endpoint,
    AWS_REGION: 'eu-west-1',
    LOOPGATE_SANDBOX_AWS_ACCESS_KEY_ID: 'AKIATESTSECRETS00001',
    LOOPGATE_SANDBOX_AWS_SECRET_ACCESS_KEY: 'test/secret/key',
  };
}

/** The error `promise` rejects with. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('loadSecrets', () => {
  it('sets every key of every listed secret, asking Secrets Manager once per secret', async () => {
    stored.set(ARN('jira'), {
      text: JSON.stringify({
        LOOPGATE_JIRA_EMAIL: 'loopgate@example.com',
        LOOPGATE_JIRA_API_TOKEN: 'jira-token',
      }),
    });
    stored.set(ARN('slack'), { text: JSON.stringify({ LOOPGATE_SLACK_TOKEN: VALUE }) });
    const target: Record<string, string | undefined> = { LOOPGATE_TABLE_NAME: 'requests' };

    const names = await loadSecrets(environment(listed('jira'), listed('slack')), target);

    expect(names.sort()).toEqual(['LOOPGATE_JIRA_API_TOKEN', 'LOOPGATE_JIRA_EMAIL', 'LOOPGATE_SLACK_TOKEN']);
    expect(target).toEqual({
      LOOPGATE_TABLE_NAME: 'requests',
      LOOPGATE_JIRA_EMAIL: 'loopgate@example.com',
      LOOPGATE_JIRA_API_TOKEN: 'jira-token',
      LOOPGATE_SLACK_TOKEN: VALUE,
    });
    expect(requests.map((r) => r.secretId).sort()).toEqual([ARN('jira'), ARN('slack')]);
    expect(requests.every((r) => r.target === 'secretsmanager.GetSecretValue' && r.signed)).toBe(true);
  });

  it('leaves the environment untouched and asks nothing when LOOPGATE_SECRET_ARNS is absent', async () => {
    const target: Record<string, string | undefined> = { LOOPGATE_TABLE_NAME: 'requests' };
    const { LOOPGATE_SECRET_ARNS: _absent, ...rest } = environment();

    expect(await loadSecrets(rest, target)).toEqual([]);
    expect(target).toEqual({ LOOPGATE_TABLE_NAME: 'requests' });
    expect(requests).toEqual([]);
  });

  it('refuses a secret that is not JSON, naming it without quoting the value, and sets nothing', async () => {
    stored.set(ARN('jira'), { text: JSON.stringify({ LOOPGATE_JIRA_API_TOKEN: 'jira-token' }) });
    stored.set(ARN('slack'), { text: VALUE });
    const target: Record<string, string | undefined> = {};

    const error = await failure(loadSecrets(environment(listed('jira'), listed('slack')), target));

    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toBe(
      `the secret ${ARN('slack')} is not JSON: store a JSON object of LOOPGATE_* keys`,
    );
    expect(
      JSON.stringify({ message: error.message, stack: error.stack, cause: String(error.cause) }),
    ).not.toContain(VALUE);
    expect(target).toEqual({});
  });

  it.each([
    ['a lower-case key', { loopgate_slack_token: VALUE }, 'has the key "loopgate_slack_token"'],
    ['a key outside LOOPGATE_', { NODE_OPTIONS: VALUE }, 'has the key "NODE_OPTIONS"'],
    [
      'a value that is not a string',
      { LOOPGATE_SLACK_TOKEN: [VALUE] },
      'the value of LOOPGATE_SLACK_TOKEN must be a string',
    ],
    ['an array instead of an object', [VALUE], 'is not a JSON object of LOOPGATE_* keys'],
  ])('refuses %s, naming the secret and the key but not the value', async (_case, content, message) => {
    stored.set(ARN('slack'), { text: JSON.stringify(content) });
    const target: Record<string, string | undefined> = {};

    const error = await failure(loadSecrets(environment(listed('slack')), target));

    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toContain(ARN('slack'));
    expect(error.message).toContain(message);
    expect(error.message).not.toContain(VALUE);
    expect(target).toEqual({});
  });

  it.each([
    [
      'slack',
      'LOOPGATE_OKTA_ORG_URL',
      'https://okta.attacker.example',
      "LOOPGATE_OKTA_ORG_URL is no secret's key; the slack secret holds only LOOPGATE_SLACK_TOKEN",
    ],
    [
      'okta',
      'LOOPGATE_JIRA_BASE_URL',
      'https://jira.attacker.example',
      "LOOPGATE_JIRA_BASE_URL is no secret's key; the okta secret holds only LOOPGATE_OKTA_TOKEN",
    ],
    [
      'slack',
      'LOOPGATE_OKTA_TOKEN',
      'okta-token-from-slack',
      'LOOPGATE_OKTA_TOKEN belongs in the okta secret; the slack secret holds only LOOPGATE_SLACK_TOKEN',
    ],
    [
      'model',
      'LOOPGATE_MODEL_BASE_URL',
      'https://model.attacker.example/v1',
      "LOOPGATE_MODEL_BASE_URL is no secret's key; the model secret holds only LOOPGATE_MODEL_API_KEY",
    ],
  ] as const)(
    'refuses the %s secret setting %s, naming the secret and the key, and sets nothing',
    async (id, key, value, reason) => {
      // The secret's own key alongside: one foreign key spoils the whole secret.
      const own = secretKeys(id)[0] as string;
      stored.set(ARN('jira'), { text: JSON.stringify({ LOOPGATE_JIRA_API_TOKEN: 'jira-token' }) });
      stored.set(ARN(id), { text: JSON.stringify({ [own]: VALUE, [key]: value }) });
      const target: Record<string, string | undefined> = {};

      const error = await failure(loadSecrets(environment(listed('jira'), listed(id)), target));

      expect(error).toBeInstanceOf(ConfigurationError);
      expect(error.message).toBe(
        `the ${id} secret ${ARN(id)} has the key ${key}, which it may not set: ${reason}`,
      );
      const reported = JSON.stringify({
        message: error.message,
        stack: error.stack,
        cause: String(error.cause),
      });
      expect(reported).not.toContain(VALUE);
      expect(reported).not.toContain(value);
      expect(target).toEqual({});
    },
  );

  it("accepts a secret's optional keys, and a model secret left {}", async () => {
    stored.set(ARN('jira-webhook'), {
      text: JSON.stringify({
        LOOPGATE_JIRA_WEBHOOK_SECRETS: 'new,old',
        LOOPGATE_JIRA_AUTOMATION_SECRET: VALUE,
      }),
    });
    stored.set(ARN('model'), { text: '{}' });
    const target: Record<string, string | undefined> = {};

    await loadSecrets(environment(listed('jiraWebhook', 'jira-webhook'), listed('model')), target);

    expect(target).toEqual({
      LOOPGATE_JIRA_WEBHOOK_SECRETS: 'new,old',
      LOOPGATE_JIRA_AUTOMATION_SECRET: VALUE,
    });
  });

  it("names a secret Secrets Manager cannot give, with Secrets Manager's reason", async () => {
    const error = await failure(loadSecrets(environment(listed('okta', 'missing')), {}));

    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toMatch(
      new RegExp(`^cannot read the secret ${ARN('missing')} \\(ResourceNotFoundException: `),
    );
  });

  it.each([
    ['jira=loopgate/dev/jira', 'LOOPGATE_SECRET_ARNS: "loopgate/dev/jira" is not an ARN'],
    [ARN('jira'), `LOOPGATE_SECRET_ARNS: "${ARN('jira')}" must be <secret>=<ARN>, the secret one of jira,`],
    [`github=${ARN('github')}`, 'LOOPGATE_SECRET_ARNS: "github" is not one of loopgate\'s secrets (jira,'],
    [`${listed('okta')},${listed('okta', 'other')}`, 'LOOPGATE_SECRET_ARNS: the okta secret is listed twice'],
  ])('refuses the list %s before asking anything', async (list, message) => {
    const error = await failure(loadSecrets({ ...environment(), LOOPGATE_SECRET_ARNS: list }, {}));

    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toContain(message);
    expect(requests).toEqual([]);
  });
});

describe('builtOnFirstCall with secrets', () => {
  it('loads the secrets before building, and loads again on the next call when loading failed', async () => {
    stored.set(ARN('okta'), { error: 'AccessDeniedException', status: 400 });
    const target: Record<string, string | undefined> = {};
    let builds = 0;
    const handler = builtOnFirstCall(
      async () => {
        builds += 1;
        // The build reads the environment as env.ts would: the secret's value is there by now.
        const token = target.LOOPGATE_OKTA_TOKEN;
        return async (event: string) => `${event} with ${token}`;
      },
      () => loadSecrets(environment(listed('okta')), target),
    );

    await expect(handler('first')).rejects.toThrow(
      `cannot read the secret ${ARN('okta')} (AccessDeniedException`,
    );
    expect(builds).toBe(0);

    stored.set(ARN('okta'), { text: JSON.stringify({ LOOPGATE_OKTA_TOKEN: 'okta-token' }) });
    expect(await handler('second')).toBe('second with okta-token');
    expect(await handler('third')).toBe('third with okta-token');
    expect(builds).toBe(1);
    // One failed read, one successful; the instance never asks again once built.
    expect(requests.map((r) => r.secretId)).toEqual([ARN('okta'), ARN('okta')]);
  });

  it('fails the cold start, without building, when a secret sets a key it does not own', async () => {
    stored.set(ARN('slack'), {
      text: JSON.stringify({
        LOOPGATE_SLACK_TOKEN: VALUE,
        LOOPGATE_OKTA_ORG_URL: 'https://okta.attacker.example',
      }),
    });
    const target: Record<string, string | undefined> = { LOOPGATE_OKTA_ORG_URL: 'https://yourco.okta.com' };
    let builds = 0;
    const handler = builtOnFirstCall(
      async () => {
        builds += 1;
        return async (event: string) => event;
      },
      () => loadSecrets(environment(listed('slack')), target),
    );

    const error = await failure(handler('first'));

    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error.message).toContain(`the slack secret ${ARN('slack')} has the key LOOPGATE_OKTA_ORG_URL`);
    expect(error.message).not.toContain(VALUE);
    expect(builds).toBe(0);
    expect(target).toEqual({ LOOPGATE_OKTA_ORG_URL: 'https://yourco.okta.com' });
  });
});
