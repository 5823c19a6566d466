// The sandbox's local Lambda host: the registered functions behind Function
// URLs, SQS queues with event source mappings, and EventBridge Scheduler, all
// on one SandboxClock. loopgate's handlers and its AWS SDK adapters run
// against it unchanged; only the endpoints differ.

import type { SandboxClock } from '../clock';
import { FunctionUrlHost } from './function-urls';
import { DEFAULT_IDENTITY, LambdaInvoker, type AwsIdentity, type LambdaFunction } from './invoker';
import { SchedulerStandIn } from './scheduler';
import { SqsStandIn, type EventSourceMappingOptions, type QueueOptions } from './sqs';

export { FunctionUrlHost, INVOKE_PAYLOAD_LIMIT_BYTES } from './function-urls';
export { LambdaInvoker, DEFAULT_IDENTITY } from './invoker';
export type { AwsIdentity, InvocationRecord, InvocationResult, LambdaFunction } from './invoker';
export { SchedulerStandIn } from './scheduler';
export type { ScheduleExecution, ScheduleAttempt } from './scheduler';
export { SqsStandIn, md5OfMessageAttributes } from './sqs';
export type { BatchRecord, EventSourceMappingOptions, QueueOptions } from './sqs';

export interface LambdaHostOptions {
  clock: SandboxClock;
  functions: readonly LambdaFunction[];
  /** Created in order, so a dead-letter queue must come before the queues that redrive to it. */
  queues?: readonly QueueOptions[];
  eventSourceMappings?: readonly EventSourceMappingOptions[];
  /** Schedule groups besides `default`. */
  scheduleGroups?: string[];
  identity?: Partial<AwsIdentity>;
  /** Fixed ports (0, the default, picks free ones). */
  ports?: { functionUrls?: number; sqs?: number; scheduler?: number };
}

export interface LambdaHostUrls {
  functionUrls: string;
  /** The `endpoint` for SQSClient; queue URLs are on this host. */
  sqs: string;
  /** The `endpoint` for SchedulerClient. */
  scheduler: string;
}

export class LambdaHost {
  readonly invoker: LambdaInvoker;
  readonly functionUrls: FunctionUrlHost;
  readonly sqs: SqsStandIn;
  readonly scheduler: SchedulerStandIn;
  private started: LambdaHostUrls | undefined;

  constructor(private readonly options: LambdaHostOptions) {
    const identity = { ...DEFAULT_IDENTITY, ...options.identity };
    this.invoker = new LambdaInvoker(options.functions, options.clock, identity);
    this.functionUrls = new FunctionUrlHost(this.invoker);
    this.sqs = new SqsStandIn(options.clock, this.invoker);
    this.scheduler = new SchedulerStandIn(options.clock, this.invoker, this.sqs, {
      groups: options.scheduleGroups,
    });
  }

  get urls(): LambdaHostUrls {
    if (!this.started) throw new Error('the Lambda host is not started');
    return this.started;
  }

  /**
   * Starts the three servers, creates the configured queues and mappings, and
   * starts background delivery (SQS polling, schedule firing). Tests that want
   * to step delivery themselves pass `{ background: false }` and call
   * `sqs.drain()` / `scheduler.runDue()`.
   */
  async start(options: { background?: boolean } = {}): Promise<LambdaHostUrls> {
    if (this.started) return this.started;
    const ports = this.options.ports ?? {};
    try {
      const functionUrls = await this.functionUrls.start(ports.functionUrls ?? 0);
      const sqs = await this.sqs.start(ports.sqs ?? 0);
      const scheduler = await this.scheduler.start(ports.scheduler ?? 0);
      for (const queue of this.options.queues ?? []) this.sqs.createQueue(queue);
      for (const mapping of this.options.eventSourceMappings ?? []) this.sqs.addEventSourceMapping(mapping);
      if (options.background ?? true) {
        this.sqs.startPolling();
        this.scheduler.startTimer();
      }
      this.started = { functionUrls, sqs, scheduler };
      return this.started;
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Stops background delivery (waiting for running handlers) and closes every server. */
  async stop(): Promise<void> {
    this.started = undefined;
    await Promise.all([this.sqs.stop(), this.scheduler.stop()]);
    await this.functionUrls.stop();
  }

  state() {
    return {
      functionUrls: this.functionUrls.state(),
      sqs: this.sqs.state(),
      scheduler: this.scheduler.state(),
      invocations: this.invoker.invocations,
    };
  }
}
