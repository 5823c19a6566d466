// The settings every AWS SDK client loopgate builds shares, in one place: a bounded number of
// attempts, a connection and a request timeout on each (without throwOnRequestTimeout a slow
// answer is only logged as a warning and the call waits on), and an endpoint and static
// credentials only where the sandbox gives them (on AWS: the service, and the function role).

export interface AwsClientOptions {
  region?: string;
  /** Another base URL (a sandbox stand-in or DynamoDB Local); the real service when absent. */
  endpoint?: string;
  /** Static credentials; the default provider chain (the Lambda role) when absent. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Per attempt: the time to connect and the time for the whole answer. */
  timeoutMs: number;
  /** Attempts per call, the first included; the SDK backs off between them (throttling, 5xx, timeouts). */
  maxAttempts: number;
}

/** The configuration to give any `@aws-sdk/client-*` constructor. */
export function awsClientConfig(options: AwsClientOptions) {
  if (!(options.timeoutMs > 0)) throw new RangeError('timeoutMs must be positive');
  if (!(Number.isInteger(options.maxAttempts) && options.maxAttempts >= 1)) {
    throw new RangeError('maxAttempts must be a whole number of at least 1');
  }
  return {
    ...(options.region === undefined ? {} : { region: options.region }),
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    maxAttempts: options.maxAttempts,
    requestHandler: {
      connectionTimeout: options.timeoutMs,
      requestTimeout: options.timeoutMs,
      throwOnRequestTimeout: true,
    },
  };
}
