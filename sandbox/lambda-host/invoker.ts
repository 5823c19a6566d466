// Runs registered Lambda handlers the way the Lambda runtime does: a fresh
// Context per invocation, the function's timeout enforced, and every
// invocation recorded so tests and the control API can see what ran.

import { randomBytes, randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import type { SandboxClock } from '../clock';

/** A function the sandbox hosts. Handlers are registered, not discovered. */
export interface LambdaFunction {
  name: string;
  /** Any Lambda handler: it is called with the event its trigger builds. */
  handler: (event: never, context: Context) => Promise<unknown>;
  /** Lambda's function timeout; 30 s unless set (the CDK default is 3 s, loopgate sets its own). */
  timeoutSeconds?: number;
  /** Reported as `context.memoryLimitInMB`; 128 unless set. */
  memorySize?: number;
  /** Asynchronous invocations (Scheduler targets): retries after a function error, 0 to 2; Lambda's default is 2. */
  maximumRetryAttempts?: number;
}

export interface AwsIdentity {
  region: string;
  accountId: string;
}

export const DEFAULT_IDENTITY: AwsIdentity = { region: 'us-east-1', accountId: '000000000000' };

export type InvocationSource = 'function-url' | 'sqs' | 'scheduler';

export interface InvocationRecord {
  requestId: string;
  functionName: string;
  source: InvocationSource;
  /** Sandbox-clock time the invocation started. */
  at: string;
  outcome: 'success' | 'error' | 'timeout';
  /** `errorType: errorMessage`, as Lambda logs a failed invocation. */
  error?: string;
  event: unknown;
  result?: unknown;
}

export type InvocationResult =
  | { requestId: string; outcome: 'success'; result: unknown }
  | { requestId: string; outcome: 'error' | 'timeout'; error: string };

export class UnknownFunctionError extends Error {
  constructor(readonly functionName: string) {
    super(`Function not found: ${functionName}`);
    this.name = 'ResourceNotFoundException';
  }
}

export const DEFAULT_TIMEOUT_SECONDS = 30;

export class LambdaInvoker {
  readonly invocations: InvocationRecord[] = [];
  private readonly functions = new Map<string, LambdaFunction>();

  constructor(
    functions: readonly LambdaFunction[],
    readonly clock: SandboxClock,
    readonly identity: AwsIdentity = DEFAULT_IDENTITY,
  ) {
    for (const fn of functions) {
      if (!/^[a-zA-Z0-9-_]{1,64}$/.test(fn.name)) {
        throw new Error(`invalid Lambda function name "${fn.name}": 1 to 64 letters, digits, - or _`);
      }
      if (this.functions.has(fn.name)) throw new Error(`function "${fn.name}" is registered twice`);
      this.functions.set(fn.name, fn);
    }
  }

  has(name: string): boolean {
    return this.functions.has(name);
  }

  get(name: string): LambdaFunction | undefined {
    return this.functions.get(name);
  }

  names(): string[] {
    return [...this.functions.keys()];
  }

  functionArn(name: string): string {
    return `arn:aws:lambda:${this.identity.region}:${this.identity.accountId}:function:${name}`;
  }

  /** The function named by a Lambda function ARN (unqualified or `:$LATEST`), or undefined. */
  functionNameFromArn(arn: string): string | undefined {
    const m =
      /^arn:aws[a-z-]*:lambda:([a-z0-9-]+):(\d{12}):function:([a-zA-Z0-9-_]+)(?::(?:\$LATEST|[a-zA-Z0-9-_]+))?$/.exec(
        arn,
      );
    if (!m || m[1] !== this.identity.region || m[2] !== this.identity.accountId) return undefined;
    return m[3];
  }

  /**
   * Invokes a function synchronously and reports how it ended. A handler that
   * throws or outlives its timeout is an outcome, not an exception: each trigger
   * maps it to what its AWS service does (a 502, a retried batch, a retry).
   */
  async invoke(
    name: string,
    event: unknown,
    source: InvocationSource,
    requestId: string = randomUUID(),
  ): Promise<InvocationResult> {
    const fn = this.functions.get(name);
    if (!fn) throw new UnknownFunctionError(name);
    const timeoutMs = (fn.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS) * 1000;
    const context = this.context(fn, requestId, timeoutMs);
    const record: InvocationRecord = {
      requestId,
      functionName: name,
      source,
      at: this.clock.now().toISOString(),
      outcome: 'success',
      event,
    };
    this.invocations.push(record);

    let timer: NodeJS.Timeout | undefined;
    // Lambda stops the execution environment at the timeout; here the handler's
    // promise is abandoned, which is what its caller observes in both cases.
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    try {
      const settled = await Promise.race([
        Promise.resolve()
          .then(() => fn.handler(event as never, context))
          .then((result) => ({ result })),
        timeout,
      ]);
      if (settled === 'timeout') {
        record.outcome = 'timeout';
        record.error = `Sandbox.Timedout: Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`;
        return { requestId, outcome: 'timeout', error: record.error };
      }
      // The runtime serializes the result as JSON; undefined becomes null.
      const result = settled.result === undefined ? null : settled.result;
      record.result = result;
      return { requestId, outcome: 'success', result };
    } catch (error) {
      record.outcome = 'error';
      record.error = describeError(error);
      return { requestId, outcome: 'error', error: record.error };
    } finally {
      clearTimeout(timer);
    }
  }

  private context(fn: LambdaFunction, requestId: string, timeoutMs: number): Context {
    // The remaining time is real time: it bounds how long the handler's own work may take.
    const deadline = Date.now() + timeoutMs;
    const day = this.clock.now().toISOString().slice(0, 10).replace(/-/g, '/');
    const unsupported = (name: string) => () => {
      throw new Error(
        `context.${name}() is not available to async handlers (removed from the Node.js 24 runtime)`,
      );
    };
    return {
      callbackWaitsForEmptyEventLoop: true,
      functionName: fn.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: this.functionArn(fn.name),
      memoryLimitInMB: String(fn.memorySize ?? 128),
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${fn.name}`,
      logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: unsupported('done'),
      fail: unsupported('fail'),
      succeed: unsupported('succeed'),
    };
  }
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return `Error: ${String(error)}`;
}
