// The Lambda invocation every log line belongs to: request id, cold start,
// function name and version, and the X-Ray trace id. Kept per invocation in
// AsyncLocalStorage, so the logger adds them to every line without each
// handler passing them on, and invocations handled at once (the sandbox runs
// several in one process) never mix.

import { AsyncLocalStorage } from 'node:async_hooks';
import type { Context } from 'aws-lambda';

/** Set by the Lambda runtime for each invocation: `Root=1-…;Parent=…;Sampled=…`. */
export const TRACE_ID_VARIABLE = '_X_AMZN_TRACE_ID';

export interface InvocationKeys {
  awsRequestId: string;
  /** True on the first invocation of the execution environment (the one that built the handler). */
  coldStart: boolean;
  functionName: string;
  functionVersion: string;
  /** The X-Ray trace id (the header's Root), when tracing is on. */
  xrayTraceId?: string;
}

const current = new AsyncLocalStorage<InvocationKeys>();

/** The keys of the invocation the caller runs in; undefined outside one (tests, the CLI). */
export function invocationKeys(): InvocationKeys | undefined {
  return current.getStore();
}

/** The Root of an X-Ray trace header, or undefined when there is none. */
export function traceIdOf(header: string | undefined): string | undefined {
  return (
    header
      ?.split(';')
      .find((part) => part.startsWith('Root='))
      ?.slice('Root='.length) || undefined
  );
}

/**
 * Runs each invocation with its context's keys; the first one it runs is the cold start.
 * `traceHeader` is read per invocation: the runtime sets the variable anew for each.
 */
export function invocationScope(
  traceHeader: () => string | undefined = () => process.env[TRACE_ID_VARIABLE],
): <R>(context: Context | undefined, run: () => Promise<R>) => Promise<R> {
  let coldStart = true;
  return (context, run) => {
    if (!context) return run();
    const xrayTraceId = traceIdOf(traceHeader());
    const keys: InvocationKeys = {
      awsRequestId: context.awsRequestId,
      coldStart,
      functionName: context.functionName,
      functionVersion: context.functionVersion,
      ...(xrayTraceId ? { xrayTraceId } : {}),
    };
    coldStart = false;
    return current.run(keys, run);
  };
}
