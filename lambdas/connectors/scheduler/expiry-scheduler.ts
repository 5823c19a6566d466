// The ExpiryScheduler on Amazon EventBridge Scheduler: one one-time schedule
// per granted request, named after it, that invokes the revoke target with
// `{requestId}` at the expiry and then deletes itself. Scheduling again moves
// the schedule (an extension); cancelling an absent schedule is fine.

import { createHash } from 'node:crypto';
import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  SchedulerServiceException,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { UpstreamError, type UpstreamFailure, ValidationError } from '../../core/errors';
import type { ExpiryScheduler } from '../../core/ports';
import { awsClientConfig, type AwsClientOptions } from '../aws-client';

export const SCHEDULER_SERVICE = 'aws-scheduler';
/** Every schedule loopgate creates is named this and the request id. */
export const SCHEDULE_PREFIX = 'loopgate-revoke-';

export type SchedulerClientOptions = AwsClientOptions & { region: string };

/** The Scheduler client with a timeout on every call and bounded attempts. */
export function createSchedulerClient(options: SchedulerClientOptions): SchedulerClient {
  return new SchedulerClient(awsClientConfig(options));
}

/** What a schedule invokes at expiry: in loopgate, the revoke function (it takes `{requestId}`). */
export interface ExpiryTarget {
  /** A Lambda function ARN or an SQS queue ARN. */
  arn: string;
  /** The role Scheduler assumes to invoke the target (the caller needs iam:PassRole on it). */
  roleArn: string;
}

export interface EventBridgeExpirySchedulerOptions {
  /** Built by createSchedulerClient. */
  client: SchedulerClient;
  /** The schedule group loopgate's schedules live in (it must exist). */
  groupName: string;
  target: ExpiryTarget;
}

export class EventBridgeExpiryScheduler implements ExpiryScheduler {
  private readonly client: SchedulerClient;
  private readonly groupName: string;
  private readonly target: ExpiryTarget;

  constructor(options: EventBridgeExpirySchedulerOptions) {
    if (!/^[0-9a-zA-Z-_.]{1,64}$/.test(options.groupName)) {
      throw new RangeError(`"${options.groupName}" is not a schedule group name`);
    }
    if (!options.target.arn.startsWith('arn:') || !options.target.roleArn.startsWith('arn:')) {
      throw new RangeError('the schedule target and its role must be ARNs');
    }
    this.client = options.client;
    this.groupName = options.groupName;
    this.target = { ...options.target };
  }

  async schedule(requestId: string, at: Date): Promise<void> {
    const input: CreateScheduleCommandInput = {
      Name: scheduleNameOf(requestId),
      GroupName: this.groupName,
      ScheduleExpression: atExpression(at),
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      Description: `Revokes loopgate request ${requestId} at its expiry`,
      Target: {
        Arn: this.target.arn,
        RoleArn: this.target.roleArn,
        Input: JSON.stringify({ requestId }),
      },
      // Same request and time, same token: a retried call is the same call to Scheduler.
      ClientToken: createHash('sha256').update(`${requestId}\n${at.toISOString()}`).digest('hex'),
    };
    try {
      await this.client.send(new CreateScheduleCommand(input));
      return;
    } catch (error) {
      if (!(error instanceof ConflictException)) throw schedulerError(error, 'CreateSchedule', requestId);
    }
    // The request has a schedule already: an extension (or a redelivery) moves it to this time.
    // UpdateSchedule replaces the whole definition, so it gets the same one.
    try {
      await this.client.send(new UpdateScheduleCommand(input));
    } catch (error) {
      throw schedulerError(error, 'UpdateSchedule', requestId);
    }
  }

  async cancel(requestId: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteScheduleCommand({ Name: scheduleNameOf(requestId), GroupName: this.groupName }),
      );
    } catch (error) {
      // Never scheduled, already fired (it deletes itself) or cancelled before: nothing to do.
      if (error instanceof ResourceNotFoundException) return;
      throw schedulerError(error, 'DeleteSchedule', requestId);
    }
  }
}

/** Request ids are UUIDs; the name must fit Scheduler's 64 characters of [0-9a-zA-Z-_.]. */
export function scheduleNameOf(requestId: string): string {
  const name = SCHEDULE_PREFIX + requestId;
  if (!/^[0-9a-zA-Z-_.]{1,64}$/.test(name)) {
    throw new ValidationError(
      `${SCHEDULER_SERVICE}: request id ${JSON.stringify(requestId)} cannot name a schedule`,
    );
  }
  return name;
}

/**
 * `at(yyyy-mm-ddThh:mm:ss)` in UTC. Scheduler takes whole seconds; a time with milliseconds is
 * rounded up, so the revoke never fires before the expiry it is for.
 */
export function atExpression(at: Date): string {
  const ms = at.getTime();
  if (Number.isNaN(ms)) throw new ValidationError(`${SCHEDULER_SERVICE}: the revoke time is not a date`);
  const seconds = new Date(Math.ceil(ms / 1000) * 1000);
  return `at(${seconds.toISOString().slice(0, 19)})`;
}

const UNAUTHORIZED = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'MissingAuthenticationTokenException',
  'IncompleteSignatureException',
  'ExpiredTokenException',
]);

function schedulerError(error: unknown, action: string, requestId: string): UpstreamError {
  const detail =
    error instanceof SchedulerServiceException
      ? `${error.name}: ${error.message}`
      : error instanceof Error
        ? error.name
        : 'unknown error';
  return new UpstreamError(
    SCHEDULER_SERVICE,
    classify(error),
    `${action} for request ${requestId} failed (${detail})`,
    { cause: error },
  );
}

function classify(error: unknown): UpstreamFailure {
  if (error instanceof SchedulerServiceException) {
    if (error.name === 'ThrottlingException') return 'rate-limited';
    if (error.name === 'AccessDeniedException') return 'forbidden';
    if (UNAUTHORIZED.has(error.name)) return 'unauthorized';
    if (error.$fault === 'server' || (error.$metadata.httpStatusCode ?? 0) >= 500) return 'unavailable';
    // ValidationException, a missing schedule group, a quota: asking again would not help.
    return 'bad-response';
  }
  if (error instanceof Error) {
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timeout';
    if (error.name === 'CredentialsProviderError') return 'unauthorized';
  }
  return 'unavailable';
}
