// Loads the function's secrets into its environment at cold start.
// LOOPGATE_SECRET_ARNS lists them as <secret id>=<ARN> (jira=arn:aws:…,okta=…);
// each is a JSON object of the LOOPGATE_* variables that secret owns (see
// integration-secrets.ts), set in process.env before the configuration is read,
// so env.ts reads secrets like any other setting. A key the secret does not own
// stops the cold start: who may write the Slack secret must not be able to set
// LOOPGATE_OKTA_ORG_URL and so receive the Okta token.
// Nothing here ever logs or reports a value: errors name the secret and the key.

import { ConfigurationError } from '../core/errors';
import { Env, type EnvSource } from './env';
import { isSecretId, SECRET_IDS, type SecretId, secretKeys, secretOwning } from './integration-secrets';
import { awsClientConfig } from '../connectors/aws-client';

/** Only loopgate's own variables: a secret must not be able to set PATH or NODE_OPTIONS. */
const KEY = /^LOOPGATE_[A-Z0-9_]+$/;

/** One secret a function reads: which of loopgate's secrets it is, and where. */
export interface SecretRef {
  id: SecretId;
  arn: string;
}

export interface SecretSettings {
  secrets: SecretRef[];
  region: string;
  /** Only in tests and the sandbox: another Secrets Manager endpoint. */
  endpoint?: string;
  /** Only in the sandbox: keys for its AWS stand-ins. On AWS the function's role signs. */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  timeoutMs: number;
}

/** Undefined when LOOPGATE_SECRET_ARNS is absent: the environment already holds everything. */
export function readSecretSettings(env = new Env()): SecretSettings | undefined {
  const entries = (env.optionalString('LOOPGATE_SECRET_ARNS') ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) return undefined;
  const secrets = entries.map(secretRef);
  for (const [index, { id }] of secrets.entries()) {
    if (secrets.findIndex((other) => other.id === id) !== index) {
      throw new ConfigurationError(`LOOPGATE_SECRET_ARNS: the ${id} secret is listed twice`);
    }
  }
  const endpoint = env.optionalUrl('LOOPGATE_SECRETS_ENDPOINT');
  const accessKeyId = env.optionalString('LOOPGATE_SANDBOX_AWS_ACCESS_KEY_ID');
  return {
    secrets,
    region: env.string('AWS_REGION'),
    ...(endpoint ? { endpoint } : {}),
    ...(accessKeyId
      ? {
          credentials: {
            accessKeyId,
            secretAccessKey: env.string('LOOPGATE_SANDBOX_AWS_SECRET_ACCESS_KEY'),
          },
        }
      : {}),
    timeoutMs: env.positiveIntOr('LOOPGATE_SECRETS_TIMEOUT_MS', 3000),
  };
}

/** One entry of LOOPGATE_SECRET_ARNS: `<secret id>=<ARN>`. */
function secretRef(entry: string): SecretRef {
  const at = entry.indexOf('=');
  if (at < 0) {
    throw new ConfigurationError(
      `LOOPGATE_SECRET_ARNS: "${entry}" must be <secret>=<ARN>, the secret one of ${SECRET_IDS.join(', ')}`,
    );
  }
  const id = entry.slice(0, at).trim();
  const arn = entry.slice(at + 1).trim();
  if (!isSecretId(id)) {
    throw new ConfigurationError(
      `LOOPGATE_SECRET_ARNS: "${id}" is not one of loopgate's secrets (${SECRET_IDS.join(', ')})`,
    );
  }
  if (!arn.startsWith('arn:')) {
    throw new ConfigurationError(`LOOPGATE_SECRET_ARNS: "${arn}" is not an ARN`);
  }
  return { id, arn };
}

/**
 * Fetches every secret (in parallel) and sets its variables in `target`. Nothing is set unless
 * every secret was read and is well formed. Returns the names set, for a log line.
 */
export async function loadSecrets(
  source: EnvSource = process.env,
  target: Record<string, string | undefined> = process.env,
): Promise<string[]> {
  const settings = readSecretSettings(new Env(source));
  if (!settings) return [];
  // Loaded only when used: the sandbox and tests without secrets never pay for the SDK.
  const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient(
    awsClientConfig({
      region: settings.region,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      ...(settings.credentials ? { credentials: settings.credentials } : {}),
      timeoutMs: settings.timeoutMs,
      maxAttempts: 3,
    }),
  );
  try {
    const entries = await Promise.all(
      settings.secrets.map(async (secret) => {
        const { arn } = secret;
        let text: string | undefined;
        try {
          text = (await client.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString;
        } catch (error) {
          const detail = error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error';
          throw new ConfigurationError(`cannot read the secret ${arn} (${detail})`, { cause: error });
        }
        return parseSecret(secret, text);
      }),
    );
    const names: string[] = [];
    for (const values of entries) {
      for (const [name, value] of Object.entries(values)) {
        target[name] = value;
        names.push(name);
      }
    }
    return names;
  } finally {
    client.destroy();
  }
}

/**
 * The secret's variables: only the keys it owns (integration-secrets.ts). Errors name the secret
 * (its id and ARN) and the key, never a value.
 */
export function parseSecret({ id, arn }: SecretRef, text: string | undefined): Record<string, string> {
  if (text === undefined) {
    throw new ConfigurationError(`the secret ${arn} has no SecretString: store a JSON object`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    // JSON.parse's message quotes the text: it must not reach a log.
    throw new ConfigurationError(`the secret ${arn} is not JSON: store a JSON object of LOOPGATE_* keys`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConfigurationError(`the secret ${arn} is not a JSON object of LOOPGATE_* keys`);
  }
  const owned = secretKeys(id);
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(data)) {
    if (!KEY.test(key)) {
      throw new ConfigurationError(
        `the secret ${arn} has the key ${JSON.stringify(key)}: keys must be LOOPGATE_* variable names (upper case, digits, _)`,
      );
    }
    if (!owned.includes(key)) {
      const owner = secretOwning(key);
      throw new ConfigurationError(
        `the ${id} secret ${arn} has the key ${key}, which it may not set: ` +
          (owner ? `${key} belongs in the ${owner} secret` : `${key} is no secret's key`) +
          `; the ${id} secret holds ${owned.length ? `only ${owned.join(', ')}` : 'no keys'}`,
      );
    }
    if (typeof value !== 'string') {
      throw new ConfigurationError(`the secret ${arn}: the value of ${key} must be a string`);
    }
    values[key] = value;
  }
  return values;
}
