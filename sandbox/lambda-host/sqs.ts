// Amazon SQS for the sandbox: standard queues on the SandboxClock (delays,
// visibility timeouts, receive counts, redrive to a dead-letter queue), the
// AWS JSON 1.0 API that @aws-sdk/client-sqs speaks, and Lambda's SQS event
// source mapping with ReportBatchItemFailures.

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import type { SandboxClock } from '../clock';
import { HttpStandIn, json, jsonBody, type StandInRequest, type StandInResponse } from '../http/stand-in';
import type { LambdaInvoker } from './invoker';

export interface QueueOptions {
  name: string;
  /** Seconds a received message stays invisible; SQS's default is 30. */
  visibilityTimeoutSeconds?: number;
  /** The queue's default delay for new messages, 0 to 900 s. */
  delaySeconds?: number;
  /** How long a message is kept, 60 s to 14 days; SQS's default is 4 days. */
  messageRetentionPeriodSeconds?: number;
  /** Largest message accepted (body plus attributes), 1,024 to 1,048,576 bytes; 262,144 unless set. */
  maximumMessageSize?: number;
  /** After `maxReceiveCount` receives, the next receive moves the message to `deadLetterQueue` (a queue name). */
  redrivePolicy?: { deadLetterQueue: string; maxReceiveCount: number };
}

export interface EventSourceMappingOptions {
  queue: string;
  functionName: string;
  /** Records per invocation, 1 to 10 (more needs a batching window, which the sandbox does not model). */
  batchSize?: number;
  /** Lambda's `FunctionResponseTypes: ['ReportBatchItemFailures']`; on unless false. */
  reportBatchItemFailures?: boolean;
}

/** A message attribute as the SQS JSON API carries it (binary values base64). */
interface WireAttribute {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

interface StoredMessage {
  messageId: string;
  body: string;
  md5OfBody: string;
  md5OfMessageAttributes?: string;
  attributes: Record<string, WireAttribute>;
  senderId: string;
  sentTimestamp: number;
  /** When the message first entered any queue: retention counts from here, even after redrive. */
  enqueuedAt: number;
  receiveCount: number;
  firstReceiveTimestamp?: number;
  /** Clock time (ms) from which the message can be received. */
  visibleAt: number;
  receiptHandle?: string;
}

interface Queue {
  name: string;
  arn: string;
  createdAt: number;
  visibilityTimeoutSeconds: number;
  delaySeconds: number;
  retentionSeconds: number;
  maximumMessageSize: number;
  redrive?: { deadLetterQueue: string; maxReceiveCount: number };
  messages: StoredMessage[];
  /** Sent messages still to be stored twice, to exercise at-least-once delivery. */
  duplicateNext: number;
}

interface Mapping {
  uuid: string;
  queue: string;
  functionName: string;
  batchSize: number;
  reportBatchItemFailures: boolean;
}

export interface BatchRecord {
  at: string;
  mapping: string;
  functionName: string;
  queue: string;
  messageIds: string[];
  outcome: 'success' | 'partial' | 'error';
  /** Message ids left on the queue for a retry. */
  failed: string[];
  error?: string;
}

class SqsError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly queryCode: string,
    message: string,
  ) {
    super(message);
  }
}

const invalidParameter = (message: string) =>
  new SqsError(
    400,
    'com.amazon.coral.service#InvalidParameterValueException',
    'InvalidParameterValue',
    message,
  );
const missingParameter = (name: string) =>
  new SqsError(
    400,
    'com.amazon.coral.service#MissingParameterException',
    'MissingParameter',
    `The request must contain the parameter ${name}.`,
  );
const queueDoesNotExist = () =>
  new SqsError(
    400,
    'com.amazonaws.sqs#QueueDoesNotExist',
    'AWS.SimpleQueueService.NonExistentQueue',
    'The specified queue does not exist.',
  );

const JSON_10 = 'application/x-amz-json-1.0';
const DEFAULT_MAXIMUM_MESSAGE_SIZE = 262_144;
const QUEUE_ATTRIBUTE_NAMES = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'CreatedTimestamp',
  'DelaySeconds',
  'LastModifiedTimestamp',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'QueueArn',
  'ReceiveMessageWaitTimeSeconds',
  'RedrivePolicy',
  'SqsManagedSseEnabled',
  'VisibilityTimeout',
];

export class SqsStandIn extends HttpStandIn {
  readonly batches: BatchRecord[] = [];
  private readonly queues = new Map<string, Queue>();
  private readonly mappings: Mapping[] = [];
  private exclusive: Promise<unknown> = Promise.resolve();
  /** Stops background delivery; set while it runs. */
  private stopPoller: (() => void) | undefined;
  private pumping: Promise<void> | undefined;
  private pumpAgain = false;
  /** The last error of the background poller (a bug in the sandbox, not a handler failure). */
  lastPollError: Error | undefined;

  constructor(
    private readonly clock: SandboxClock,
    private readonly invoker: LambdaInvoker,
  ) {
    super('sqs', clock);
    this.route('POST', '/', (request) => this.api(request));
  }

  // ---- configuration -------------------------------------------------------

  createQueue(options: QueueOptions): string {
    if (!/^[a-zA-Z0-9_-]{1,80}$/.test(options.name)) {
      throw new Error(
        `invalid queue name "${options.name}": 1 to 80 letters, digits, - or _ (FIFO queues are not modelled)`,
      );
    }
    if (this.queues.has(options.name)) throw new Error(`queue "${options.name}" already exists`);
    const check = (value: number, min: number, max: number, what: string) => {
      if (!Number.isInteger(value) || value < min || value > max)
        throw new Error(`${what} must be ${min} to ${max}`);
      return value;
    };
    const queue: Queue = {
      name: options.name,
      arn: this.queueArn(options.name),
      createdAt: this.clock.now().getTime(),
      visibilityTimeoutSeconds: check(options.visibilityTimeoutSeconds ?? 30, 0, 43_200, 'VisibilityTimeout'),
      delaySeconds: check(options.delaySeconds ?? 0, 0, 900, 'DelaySeconds'),
      retentionSeconds: check(
        options.messageRetentionPeriodSeconds ?? 345_600,
        60,
        1_209_600,
        'MessageRetentionPeriod',
      ),
      maximumMessageSize: check(
        options.maximumMessageSize ?? DEFAULT_MAXIMUM_MESSAGE_SIZE,
        1024,
        1_048_576,
        'MaximumMessageSize',
      ),
      messages: [],
      duplicateNext: 0,
    };
    if (options.redrivePolicy) {
      const { deadLetterQueue, maxReceiveCount } = options.redrivePolicy;
      if (!this.queues.has(deadLetterQueue))
        throw new Error(`dead-letter queue "${deadLetterQueue}" must be created first`);
      check(maxReceiveCount, 1, 1000, 'maxReceiveCount');
      queue.redrive = { deadLetterQueue, maxReceiveCount };
    }
    this.queues.set(queue.name, queue);
    return this.queueUrl(queue.name);
  }

  /** Lambda's event source mapping: the function is invoked with batches from the queue. */
  addEventSourceMapping(options: EventSourceMappingOptions): string {
    if (!this.queues.has(options.queue)) throw new Error(`no queue "${options.queue}"`);
    if (!this.invoker.has(options.functionName))
      throw new Error(`no function "${options.functionName}" is registered`);
    const batchSize = options.batchSize ?? 10;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10)
      throw new Error('batchSize must be 1 to 10');
    const mapping: Mapping = {
      uuid: randomUUID(),
      queue: options.queue,
      functionName: options.functionName,
      batchSize,
      reportBatchItemFailures: options.reportBatchItemFailures ?? true,
    };
    this.mappings.push(mapping);
    return mapping.uuid;
  }

  /** The next `count` messages sent to the queue are stored twice (same MessageId), as SQS may deliver them. */
  deliverTwice(queueName: string, count = 1): void {
    this.requireQueue(queueName).duplicateNext += count;
  }

  queueUrl(name: string): string {
    return `${this.url}/${this.invoker.identity.accountId}/${name}`;
  }

  queueArn(name: string): string {
    return `arn:aws:sqs:${this.invoker.identity.region}:${this.invoker.identity.accountId}:${name}`;
  }

  /** The queue named by an SQS queue ARN of this account and region, if it exists. */
  queueNameFromArn(arn: string): string | undefined {
    const prefix = `arn:aws:sqs:${this.invoker.identity.region}:${this.invoker.identity.accountId}:`;
    if (!arn.startsWith(prefix)) return undefined;
    const name = arn.slice(prefix.length);
    return this.queues.has(name) ? name : undefined;
  }

  /** Enqueues a message as SendMessage would (used by other stand-ins, e.g. a Scheduler target or DLQ). */
  enqueue(
    queueName: string,
    body: string,
    options: { attributes?: Record<string, WireAttribute>; delaySeconds?: number; senderId?: string } = {},
  ): { messageId: string; md5OfBody: string } {
    const queue = this.requireQueue(queueName);
    const attributes = options.attributes ?? {};
    validateMessage(queue, body, attributes);
    const stored = this.store(
      queue,
      body,
      attributes,
      options.delaySeconds ?? queue.delaySeconds,
      options.senderId,
    );
    return { messageId: stored.messageId, md5OfBody: stored.md5OfBody };
  }

  // ---- the event source mapping ---------------------------------------------

  /**
   * One pass of every event source mapping: delivers each message that is
   * visible now (each at most once per pass) and awaits the handlers. Returns
   * the number of batches delivered. `queues` limits the pass to those queues.
   */
  pump(queues?: readonly string[]): Promise<number> {
    return this.serially(async () => {
      let delivered = 0;
      for (const mapping of this.mappings) {
        if (!queues || queues.includes(mapping.queue)) delivered += await this.pumpMapping(mapping);
      }
      return delivered;
    });
  }

  /** Pumps until a pass delivers nothing: every message visible now, and every message those handlers sent. */
  async drain(maxPasses = 1000): Promise<void> {
    for (let pass = 0; pass < maxPasses; pass++) {
      if ((await this.pump()) === 0) return;
    }
    throw new Error(`the queues did not drain in ${maxPasses} passes (a handler keeps producing messages?)`);
  }

  /** Background delivery for the running sandbox: polls, and pumps whenever the clock moves or a message arrives. */
  startPolling(intervalMs = 100): void {
    if (this.stopPoller) return;
    this.stopPoller = this.clock.whenTimePasses(() => this.pumpSoon(), intervalMs);
  }

  async stopPolling(): Promise<void> {
    const stop = this.stopPoller;
    if (!stop) return;
    this.stopPoller = undefined;
    stop();
    await this.pumping;
  }

  override async stop(): Promise<void> {
    await this.stopPolling();
    await super.stop();
  }

  state() {
    const now = this.clock.now().getTime();
    return {
      url: this.isStarted() ? this.url : undefined,
      queues: [...this.queues.values()].map((queue) => {
        this.expire(queue, now);
        const describe = (m: StoredMessage) => ({
          messageId: m.messageId,
          body: m.body,
          receiveCount: m.receiveCount,
          sentAt: new Date(m.sentTimestamp).toISOString(),
          visibleAt: new Date(m.visibleAt).toISOString(),
          ...(Object.keys(m.attributes).length > 0 ? { messageAttributes: m.attributes } : {}),
        });
        const isDeadLetterQueue = [...this.queues.values()].some(
          (q) => q.redrive?.deadLetterQueue === queue.name,
        );
        return {
          name: queue.name,
          url: this.isStarted() ? this.queueUrl(queue.name) : undefined,
          arn: queue.arn,
          visibilityTimeoutSeconds: queue.visibilityTimeoutSeconds,
          redrivePolicy: queue.redrive,
          isDeadLetterQueue,
          visible: queue.messages.filter((m) => m.visibleAt <= now).map(describe),
          inFlight: queue.messages.filter((m) => m.visibleAt > now && m.receiveCount > 0).map(describe),
          delayed: queue.messages.filter((m) => m.visibleAt > now && m.receiveCount === 0).map(describe),
        };
      }),
      eventSourceMappings: this.mappings.map((m) => ({ ...m, eventSourceArn: this.queueArn(m.queue) })),
      batches: this.batches,
    };
  }

  private isStarted(): boolean {
    try {
      return Boolean(this.url);
    } catch {
      return false;
    }
  }

  private pumpSoon(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = (async () => {
      do {
        this.pumpAgain = false;
        try {
          while ((await this.pump()) > 0 && this.stopPoller);
        } catch (error) {
          this.lastPollError = error as Error;
        }
      } while (this.pumpAgain && this.stopPoller);
    })().finally(() => {
      this.pumping = undefined;
    });
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.exclusive.then(work, work);
    this.exclusive = next.catch(() => undefined);
    return next;
  }

  private async pumpMapping(mapping: Mapping): Promise<number> {
    const queue = this.requireQueue(mapping.queue);
    const seen = new Set<StoredMessage>();
    let batches = 0;
    for (;;) {
      const batch = this.receive(queue, mapping.batchSize, seen);
      if (batch.length === 0) return batches;
      batches += 1;
      await this.deliver(mapping, queue, batch);
    }
  }

  /** Takes up to `max` visible messages, moving any that exceeded maxReceiveCount to the dead-letter queue. */
  private receive(queue: Queue, max: number, seen: Set<StoredMessage>): StoredMessage[] {
    const now = this.clock.now().getTime();
    this.expire(queue, now);
    const batch: StoredMessage[] = [];
    for (const message of [...queue.messages]) {
      if (batch.length >= max) break;
      if (message.visibleAt > now || seen.has(message)) continue;
      if (queue.redrive && message.receiveCount >= queue.redrive.maxReceiveCount) {
        this.moveToDeadLetterQueue(queue, message, now);
        continue;
      }
      message.receiveCount += 1;
      message.firstReceiveTimestamp ??= now;
      message.visibleAt = now + queue.visibilityTimeoutSeconds * 1000;
      message.receiptHandle = randomBytes(48).toString('base64');
      seen.add(message);
      batch.push(message);
    }
    return batch;
  }

  private moveToDeadLetterQueue(queue: Queue, message: StoredMessage, now: number): void {
    queue.messages.splice(queue.messages.indexOf(message), 1);
    if (!queue.redrive) return;
    const dlq = this.requireQueue(queue.redrive.deadLetterQueue);
    // A redriven message keeps its id, body, attributes and original enqueue time.
    dlq.messages.push({ ...message, receiptHandle: undefined, visibleAt: now });
  }

  private async deliver(mapping: Mapping, queue: Queue, batch: StoredMessage[]): Promise<void> {
    const event: SQSEvent = { Records: batch.map((m) => this.record(queue, m)) };
    const record: BatchRecord = {
      at: this.clock.now().toISOString(),
      mapping: mapping.uuid,
      functionName: mapping.functionName,
      queue: queue.name,
      messageIds: batch.map((m) => m.messageId),
      outcome: 'success',
      failed: [],
    };
    this.batches.push(record);
    const invocation = await this.invoker.invoke(mapping.functionName, event, 'sqs');
    let failed: Set<StoredMessage>;
    if (invocation.outcome !== 'success') {
      failed = new Set(batch);
      record.error = invocation.error;
    } else if (mapping.reportBatchItemFailures) {
      failed = batchItemFailures(invocation.result, batch);
    } else {
      failed = new Set();
    }
    // Successful records are deleted; failed ones stay in flight until their visibility timeout ends.
    for (const message of batch) {
      if (failed.has(message)) continue;
      const index = queue.messages.indexOf(message);
      if (index !== -1 && message.receiptHandle !== undefined) queue.messages.splice(index, 1);
    }
    record.failed = batch.filter((m) => failed.has(m)).map((m) => m.messageId);
    record.outcome = failed.size === 0 ? 'success' : failed.size === batch.length ? 'error' : 'partial';
  }

  private record(queue: Queue, m: StoredMessage): SQSRecord {
    const messageAttributes: SQSMessageAttributes = {};
    for (const [name, value] of Object.entries(m.attributes)) {
      messageAttributes[name] = {
        ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
        ...(value.BinaryValue !== undefined ? { binaryValue: value.BinaryValue } : {}),
        stringListValues: [],
        binaryListValues: [],
        dataType: value.DataType,
      };
    }
    return {
      messageId: m.messageId,
      receiptHandle: m.receiptHandle ?? '',
      body: m.body,
      attributes: {
        ApproximateReceiveCount: String(m.receiveCount),
        SentTimestamp: String(m.sentTimestamp),
        SenderId: m.senderId,
        ApproximateFirstReceiveTimestamp: String(m.firstReceiveTimestamp ?? m.sentTimestamp),
      },
      messageAttributes,
      md5OfBody: m.md5OfBody,
      ...(m.md5OfMessageAttributes ? { md5OfMessageAttributes: m.md5OfMessageAttributes } : {}),
      eventSource: 'aws:sqs',
      eventSourceARN: queue.arn,
      awsRegion: this.invoker.identity.region,
    };
  }

  // ---- the HTTP API ----------------------------------------------------------

  protected authenticate(request: StandInRequest): StandInResponse | undefined {
    const authorization = header(request, 'authorization');
    if (authorization === undefined && !request.query.has('X-Amz-Signature')) {
      return this.error(
        new SqsError(
          403,
          'com.amazon.coral.service#MissingAuthenticationTokenException',
          'MissingAuthenticationToken',
          'Request is missing Authentication Token',
        ),
      );
    }
    if (
      authorization !== undefined &&
      !/^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[^/]+\/sqs\/aws4_request, ?SignedHeaders=[^,]+, ?Signature=[0-9a-f]{64}$/.test(
        authorization,
      )
    ) {
      return this.error(
        new SqsError(
          400,
          'com.amazon.coral.service#IncompleteSignatureException',
          'IncompleteSignature',
          `Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' for sqs with AWS4-HMAC-SHA256.`,
        ),
      );
    }
    return undefined;
  }

  protected faultResponse(status: number): StandInResponse {
    if (status === 429 || status === 403) {
      return this.error(
        new SqsError(
          status,
          'com.amazonaws.sqs#RequestThrottled',
          'RequestThrottled',
          'Request is throttled.',
        ),
      );
    }
    if (status === 503) {
      return this.error(
        new SqsError(
          503,
          'com.amazon.coral.availability#ServiceUnavailableException',
          'ServiceUnavailable',
          'Service Unavailable',
        ),
      );
    }
    return this.error(
      new SqsError(
        status,
        'com.amazon.coral.service#InternalFailure',
        'InternalFailure',
        'We encountered an internal error. Please try again.',
      ),
    );
  }

  protected routeNotFound(): StandInResponse {
    return this.error(
      new SqsError(
        404,
        'com.amazon.coral.service#UnknownOperationException',
        'InvalidAction',
        'The action or operation requested is invalid.',
      ),
    );
  }

  protected malformedBody(): StandInResponse {
    return this.error(
      new SqsError(
        400,
        'com.amazon.coral.service#SerializationException',
        'SerializationException',
        'Start of structure or map found where not expected.',
      ),
    );
  }

  private error(error: SqsError): StandInResponse {
    const fault = error.status >= 500 ? 'Receiver' : 'Sender';
    return json(
      error.status,
      { __type: error.type, message: error.message },
      {
        'content-type': JSON_10,
        'x-amzn-requestid': randomUUID(),
        'x-amzn-query-error': `${error.queryCode};${fault}`,
      },
    );
  }

  private ok(body: unknown): StandInResponse {
    return json(200, body, { 'content-type': JSON_10, 'x-amzn-requestid': randomUUID() });
  }

  private api(request: StandInRequest): StandInResponse {
    const target = header(request, 'x-amz-target') ?? '';
    if (!target.startsWith('AmazonSQS.')) return this.routeNotFound();
    const input = jsonBody<Record<string, unknown>>(request);
    if (input === null || typeof input !== 'object' || Array.isArray(input)) return this.malformedBody();
    const senderId = accessKeyOf(request);
    try {
      switch (target.slice('AmazonSQS.'.length)) {
        case 'SendMessage':
          return this.ok(this.sendMessage(input, senderId));
        case 'SendMessageBatch':
          return this.ok(this.sendMessageBatch(input, senderId));
        case 'GetQueueUrl':
          return this.ok(this.getQueueUrl(input));
        case 'GetQueueAttributes':
          return this.ok(this.getQueueAttributes(input));
        case 'ReceiveMessage':
          return this.ok(this.receiveMessage(input));
        case 'DeleteMessage':
          return this.ok(this.deleteMessage(input));
        default:
          return this.routeNotFound();
      }
    } catch (error) {
      if (error instanceof SqsError) return this.error(error);
      throw error;
    }
  }

  private queueFromUrl(input: Record<string, unknown>): Queue {
    const queueUrl = input.QueueUrl;
    if (typeof queueUrl !== 'string' || queueUrl === '') throw missingParameter('QueueUrl');
    let path: string;
    try {
      path = new URL(queueUrl).pathname;
    } catch {
      throw new SqsError(
        404,
        'com.amazonaws.sqs#InvalidAddress',
        'InvalidAddress',
        `The address ${queueUrl} is not valid for this endpoint.`,
      );
    }
    const m = /^\/(\d{12})\/([^/]+)\/?$/.exec(path);
    if (!m || m[1] !== this.invoker.identity.accountId) throw queueDoesNotExist();
    const queue = this.queues.get(m[2] ?? '');
    if (!queue) throw queueDoesNotExist();
    return queue;
  }

  private sendMessage(input: Record<string, unknown>, senderId: string) {
    const queue = this.queueFromUrl(input);
    const entry = parseEntry(queue, input);
    const stored = this.store(queue, entry.body, entry.attributes, entry.delaySeconds, senderId);
    return {
      MessageId: stored.messageId,
      MD5OfMessageBody: stored.md5OfBody,
      ...(stored.md5OfMessageAttributes ? { MD5OfMessageAttributes: stored.md5OfMessageAttributes } : {}),
    };
  }

  private sendMessageBatch(input: Record<string, unknown>, senderId: string) {
    const queue = this.queueFromUrl(input);
    const entries = input.Entries;
    if (entries === undefined || (Array.isArray(entries) && entries.length === 0)) {
      throw new SqsError(
        400,
        'com.amazonaws.sqs#EmptyBatchRequest',
        'AWS.SimpleQueueService.EmptyBatchRequest',
        'There should be at least one SendMessageBatchRequestEntry in the request.',
      );
    }
    if (!Array.isArray(entries)) throw invalidParameter('Entries must be a list.');
    if (entries.length > 10) {
      throw new SqsError(
        400,
        'com.amazonaws.sqs#TooManyEntriesInBatchRequest',
        'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
        `Maximum number of entries per request are 10. You have sent ${entries.length}.`,
      );
    }
    const ids = new Set<string>();
    let total = 0;
    for (const raw of entries as Record<string, unknown>[]) {
      const id = raw?.Id;
      if (typeof id !== 'string' || !/^[a-zA-Z0-9_-]{1,80}$/.test(id)) {
        throw new SqsError(
          400,
          'com.amazonaws.sqs#InvalidBatchEntryId',
          'AWS.SimpleQueueService.InvalidBatchEntryId',
          'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.',
        );
      }
      if (ids.has(id)) {
        throw new SqsError(
          400,
          'com.amazonaws.sqs#BatchEntryIdsNotDistinct',
          'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
          `Id ${id} repeated.`,
        );
      }
      ids.add(id);
      if (typeof raw.MessageBody === 'string') total += messageSize(raw.MessageBody, raw.MessageAttributes);
    }
    if (total > queue.maximumMessageSize) {
      throw new SqsError(
        400,
        'com.amazonaws.sqs#BatchRequestTooLong',
        'AWS.SimpleQueueService.BatchRequestTooLong',
        `Batch requests cannot be longer than ${queue.maximumMessageSize} bytes. You have sent ${total} bytes.`,
      );
    }
    const Successful: Record<string, string>[] = [];
    const Failed: { Id: string; SenderFault: boolean; Code: string; Message: string }[] = [];
    for (const raw of entries as Record<string, unknown>[]) {
      const Id = raw.Id as string;
      try {
        const entry = parseEntry(queue, raw);
        const stored = this.store(queue, entry.body, entry.attributes, entry.delaySeconds, senderId);
        Successful.push({
          Id,
          MessageId: stored.messageId,
          MD5OfMessageBody: stored.md5OfBody,
          ...(stored.md5OfMessageAttributes ? { MD5OfMessageAttributes: stored.md5OfMessageAttributes } : {}),
        });
      } catch (error) {
        if (!(error instanceof SqsError)) throw error;
        Failed.push({ Id, SenderFault: true, Code: error.queryCode, Message: error.message });
      }
    }
    return { Successful, Failed };
  }

  private getQueueUrl(input: Record<string, unknown>) {
    const name = input.QueueName;
    if (typeof name !== 'string' || name === '') throw missingParameter('QueueName');
    const owner = input.QueueOwnerAWSAccountId;
    if (owner !== undefined && owner !== this.invoker.identity.accountId) throw queueDoesNotExist();
    if (!this.queues.has(name)) throw queueDoesNotExist();
    return { QueueUrl: this.queueUrl(name) };
  }

  private getQueueAttributes(input: Record<string, unknown>) {
    const queue = this.queueFromUrl(input);
    const requested = input.AttributeNames ?? [];
    if (!Array.isArray(requested)) throw invalidParameter('AttributeNames must be a list.');
    const names = requested.includes('All') ? QUEUE_ATTRIBUTE_NAMES : (requested as string[]);
    for (const name of names) {
      if (!QUEUE_ATTRIBUTE_NAMES.includes(name)) {
        throw new SqsError(
          400,
          'com.amazonaws.sqs#InvalidAttributeName',
          'InvalidAttributeName',
          `Unknown Attribute ${name}.`,
        );
      }
    }
    const now = this.clock.now().getTime();
    this.expire(queue, now);
    const all: Record<string, string | undefined> = {
      ApproximateNumberOfMessages: String(queue.messages.filter((m) => m.visibleAt <= now).length),
      ApproximateNumberOfMessagesNotVisible: String(
        queue.messages.filter((m) => m.visibleAt > now && m.receiveCount > 0).length,
      ),
      ApproximateNumberOfMessagesDelayed: String(
        queue.messages.filter((m) => m.visibleAt > now && m.receiveCount === 0).length,
      ),
      CreatedTimestamp: String(Math.floor(queue.createdAt / 1000)),
      LastModifiedTimestamp: String(Math.floor(queue.createdAt / 1000)),
      DelaySeconds: String(queue.delaySeconds),
      MaximumMessageSize: String(queue.maximumMessageSize),
      MessageRetentionPeriod: String(queue.retentionSeconds),
      QueueArn: queue.arn,
      ReceiveMessageWaitTimeSeconds: '0',
      RedrivePolicy: queue.redrive
        ? JSON.stringify({
            deadLetterTargetArn: this.queueArn(queue.redrive.deadLetterQueue),
            maxReceiveCount: queue.redrive.maxReceiveCount,
          })
        : undefined,
      SqsManagedSseEnabled: 'true',
      VisibilityTimeout: String(queue.visibilityTimeoutSeconds),
    };
    const Attributes: Record<string, string> = {};
    for (const name of names) {
      const value = all[name];
      if (value !== undefined) Attributes[name] = value;
    }
    return Object.keys(Attributes).length > 0 ? { Attributes } : {};
  }

  private receiveMessage(input: Record<string, unknown>) {
    const queue = this.queueFromUrl(input);
    const max = input.MaxNumberOfMessages ?? 1;
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 10) {
      throw invalidParameter(
        `Value ${String(max)} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.`,
      );
    }
    const visibility = input.VisibilityTimeout;
    const batch = this.receive(queue, max, new Set());
    if (typeof visibility === 'number') {
      for (const m of batch) m.visibleAt = this.clock.now().getTime() + visibility * 1000;
    }
    const wanted = input.MessageAttributeNames;
    const Messages = batch.map((m) => {
      const attributes = Object.entries(m.attributes).filter(
        ([name]) =>
          Array.isArray(wanted) &&
          wanted.some(
            (w: unknown) =>
              w === 'All' ||
              w === '.*' ||
              w === name ||
              (typeof w === 'string' && w.endsWith('.*') && name.startsWith(w.slice(0, -1))),
          ),
      );
      return {
        MessageId: m.messageId,
        ReceiptHandle: m.receiptHandle,
        MD5OfBody: m.md5OfBody,
        Body: m.body,
        Attributes: {
          ApproximateReceiveCount: String(m.receiveCount),
          SentTimestamp: String(m.sentTimestamp),
          SenderId: m.senderId,
          ApproximateFirstReceiveTimestamp: String(m.firstReceiveTimestamp ?? m.sentTimestamp),
        },
        ...(attributes.length > 0
          ? {
              MessageAttributes: Object.fromEntries(attributes),
              MD5OfMessageAttributes: m.md5OfMessageAttributes,
            }
          : {}),
      };
    });
    return Messages.length > 0 ? { Messages } : {};
  }

  private deleteMessage(input: Record<string, unknown>) {
    const queue = this.queueFromUrl(input);
    const handle = input.ReceiptHandle;
    if (typeof handle !== 'string' || handle === '') throw missingParameter('ReceiptHandle');
    const index = queue.messages.findIndex((m) => m.receiptHandle === handle);
    // SQS accepts deleting an already-deleted message; an unknown handle shape is an error.
    if (index === -1 && !/^[A-Za-z0-9+/=]{16,}$/.test(handle)) {
      throw new SqsError(
        404,
        'com.amazonaws.sqs#ReceiptHandleIsInvalid',
        'ReceiptHandleIsInvalid',
        `The input receipt handle "${handle}" is not a valid receipt handle.`,
      );
    }
    if (index !== -1) queue.messages.splice(index, 1);
    return {};
  }

  // ---- storage ---------------------------------------------------------------

  private store(
    queue: Queue,
    body: string,
    attributes: Record<string, WireAttribute>,
    delaySeconds: number,
    senderId = 'AIDASANDBOXSENDER0001',
  ): StoredMessage {
    const now = this.clock.now().getTime();
    const message: StoredMessage = {
      messageId: randomUUID(),
      body,
      md5OfBody: md5Hex(Buffer.from(body, 'utf8')),
      ...(Object.keys(attributes).length > 0
        ? { md5OfMessageAttributes: md5OfMessageAttributes(attributes) }
        : {}),
      attributes,
      senderId,
      sentTimestamp: now,
      enqueuedAt: now,
      receiveCount: 0,
      visibleAt: now + delaySeconds * 1000,
    };
    queue.messages.push(message);
    if (queue.duplicateNext > 0) {
      queue.duplicateNext -= 1;
      queue.messages.push({ ...message });
    }
    if (this.stopPoller) queueMicrotask(() => this.pumpSoon());
    return message;
  }

  private expire(queue: Queue, now: number): void {
    queue.messages = queue.messages.filter((m) => m.enqueuedAt + queue.retentionSeconds * 1000 > now);
  }

  private requireQueue(name: string): Queue {
    const queue = this.queues.get(name);
    if (!queue) throw new Error(`no queue "${name}"`);
    return queue;
  }
}

/** Lambda's reading of a ReportBatchItemFailures response: the failed records, or the whole batch when the response is invalid. */
function batchItemFailures(result: unknown, batch: StoredMessage[]): Set<StoredMessage> {
  if (result === null || result === undefined) return new Set();
  if (typeof result !== 'object' || Array.isArray(result)) return new Set(batch);
  const failures = (result as Partial<SQSBatchResponse>).batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) return new Set(batch);
  const failed = new Set<StoredMessage>();
  for (const failure of failures as unknown[]) {
    const id = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    const messages = typeof id === 'string' && id !== '' ? batch.filter((m) => m.messageId === id) : [];
    if (messages.length === 0) return new Set(batch);
    for (const m of messages) failed.add(m);
  }
  return failed;
}

function parseEntry(
  queue: Queue,
  input: Record<string, unknown>,
): { body: string; attributes: Record<string, WireAttribute>; delaySeconds: number } {
  const body = input.MessageBody;
  if (typeof body !== 'string' || body === '') throw missingParameter('MessageBody');
  let delaySeconds = queue.delaySeconds;
  if (input.DelaySeconds !== undefined) {
    const d = input.DelaySeconds;
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > 900) {
      throw invalidParameter(
        `Value ${String(d)} for parameter DelaySeconds is invalid. Reason: DelaySeconds must be >= 0 and <= 900.`,
      );
    }
    delaySeconds = d;
  }
  // Standard queues accept MessageGroupId (fair queues) but not a deduplication id.
  if (input.MessageDeduplicationId !== undefined) {
    throw invalidParameter('The request include parameter that is not valid for this queue type');
  }
  const attributes = parseAttributes(input.MessageAttributes);
  validateMessage(queue, body, attributes);
  return { body, attributes, delaySeconds };
}

function parseAttributes(raw: unknown): Record<string, WireAttribute> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw invalidParameter('MessageAttributes must be a map.');
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length > 10) {
    throw invalidParameter(
      `Number of message attributes [${entries.length}] exceeds the allowed maximum [10].`,
    );
  }
  const attributes: Record<string, WireAttribute> = {};
  for (const [name, value] of entries) {
    if (
      !/^[a-zA-Z0-9_.-]{1,256}$/.test(name) ||
      name.startsWith('.') ||
      name.endsWith('.') ||
      name.includes('..') ||
      /^(aws|amazon)\./i.test(name)
    ) {
      throw invalidParameter(`Message attribute name '${name}' is invalid.`);
    }
    const v = (value ?? {}) as Partial<WireAttribute> & Record<string, unknown>;
    if (typeof v.DataType !== 'string' || v.DataType === '') {
      throw invalidParameter(
        `The message attribute '${name}' must contain non-empty message attribute type.`,
      );
    }
    const base = v.DataType.split('.')[0];
    if (base !== 'String' && base !== 'Number' && base !== 'Binary') {
      throw invalidParameter(
        `The type of message (user) attribute '${name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String.`,
      );
    }
    if (v.StringListValues !== undefined || v.BinaryListValues !== undefined) {
      throw invalidParameter(`Message attribute list values in SendMessage operation are not supported.`);
    }
    if (base === 'Binary') {
      if (typeof v.BinaryValue !== 'string' || v.BinaryValue === '') {
        throw invalidParameter(`The message attribute '${name}' with type 'Binary' must use field 'Binary'.`);
      }
      attributes[name] = { DataType: v.DataType, BinaryValue: v.BinaryValue };
    } else {
      if (typeof v.StringValue !== 'string' || v.StringValue === '') {
        throw invalidParameter(
          `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${v.DataType}'.`,
        );
      }
      if (base === 'Number' && !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v.StringValue)) {
        throw invalidParameter(`Can't cast the value of message (user) attribute '${name}' to a number.`);
      }
      attributes[name] = { DataType: v.DataType, StringValue: v.StringValue };
    }
  }
  return attributes;
}

function validateMessage(queue: Queue, body: string, attributes: Record<string, WireAttribute>): void {
  // SQS accepts only these XML characters: #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF.
  if (/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u.test(body)) {
    throw new SqsError(
      400,
      'com.amazonaws.sqs#InvalidMessageContents',
      'InvalidMessageContents',
      'Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF',
    );
  }
  const size = messageSize(body, attributes);
  if (size > queue.maximumMessageSize) {
    throw invalidParameter(
      `One or more parameters are invalid. Reason: Message must be shorter than ${queue.maximumMessageSize} bytes.`,
    );
  }
}

/** A message's size as SQS counts it: the body plus each attribute's name, type and value. */
function messageSize(body: string, attributes: unknown): number {
  let size = Buffer.byteLength(body, 'utf8');
  if (attributes && typeof attributes === 'object') {
    for (const [name, value] of Object.entries(attributes as Record<string, Partial<WireAttribute>>)) {
      size += Buffer.byteLength(name) + Buffer.byteLength(value?.DataType ?? '');
      if (value?.StringValue !== undefined) size += Buffer.byteLength(value.StringValue);
      if (value?.BinaryValue !== undefined) size += Buffer.from(value.BinaryValue, 'base64').length;
    }
  }
  return size;
}

function md5Hex(data: Buffer): string {
  return createHash('md5').update(data).digest('hex');
}

/** SQS's MD5OfMessageAttributes: length-prefixed name, type, transport byte and value of each attribute, by name. */
export function md5OfMessageAttributes(attributes: Record<string, WireAttribute>): string {
  const parts: Buffer[] = [];
  const lengthPrefixed = (data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    parts.push(length, data);
  };
  for (const name of Object.keys(attributes).sort()) {
    const value = attributes[name];
    if (!value) continue;
    lengthPrefixed(Buffer.from(name, 'utf8'));
    lengthPrefixed(Buffer.from(value.DataType, 'utf8'));
    if (value.BinaryValue !== undefined) {
      parts.push(Buffer.from([2]));
      lengthPrefixed(Buffer.from(value.BinaryValue, 'base64'));
    } else {
      parts.push(Buffer.from([1]));
      lengthPrefixed(Buffer.from(value.StringValue ?? '', 'utf8'));
    }
  }
  return md5Hex(Buffer.concat(parts));
}

function header(request: StandInRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The sender as SQS reports it; the sandbox has no IAM, so the signing access key stands in for the caller's id. */
function accessKeyOf(request: StandInRequest): string {
  const authorization = header(request, 'authorization') ?? '';
  const m =
    /Credential=([^/]+)\//.exec(authorization) ??
    /^([^/]+)\//.exec(request.query.get('X-Amz-Credential') ?? '');
  return m?.[1] ?? 'AIDASANDBOXSENDER0001';
}
