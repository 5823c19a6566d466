// Amazon EventBridge Scheduler for the sandbox: the REST-JSON API that
// @aws-sdk/client-scheduler speaks (CreateSchedule, UpdateSchedule,
// GetSchedule, DeleteSchedule, ListSchedules) with the service's validations
// and errors, and schedules that fire on the SandboxClock. A Lambda target is invoked
// asynchronously, as Scheduler does: Scheduler's retry policy and dead-letter
// queue cover failed deliveries, Lambda's own asynchronous retries (two, after
// one and two minutes) cover handler errors.

import { randomUUID } from 'node:crypto';
import type { SandboxClock } from '../clock';
import { HttpStandIn, json, jsonBody, type StandInRequest, type StandInResponse } from '../http/stand-in';
import type { LambdaInvoker } from './invoker';
import type { SqsStandIn } from './sqs';

interface Target {
  Arn: string;
  RoleArn: string;
  Input?: string;
  RetryPolicy: { MaximumRetryAttempts: number; MaximumEventAgeInSeconds: number };
  DeadLetterConfig?: { Arn?: string };
  [other: string]: unknown;
}

interface Schedule {
  name: string;
  groupName: string;
  arn: string;
  expression: string;
  timezone: string;
  /** Clock time (ms) of the next invocation; undefined once the schedule has no more. */
  nextFireAt: number | undefined;
  rateMs?: number;
  startDate?: number;
  endDate?: number;
  description?: string;
  state: 'ENABLED' | 'DISABLED';
  actionAfterCompletion: 'NONE' | 'DELETE';
  flexibleTimeWindow: { Mode: 'OFF' | 'FLEXIBLE'; MaximumWindowInMinutes?: number };
  target: Target;
  kmsKeyArn?: string;
  creationDate: number;
  lastModificationDate: number;
  /** Executions started and not yet finished; a one-time schedule completes when its execution does. */
  running: number;
}

export interface ScheduleAttempt {
  at: string;
  /** `delivery`: Scheduler handing the event to the target; `invocation`: Lambda running the handler. */
  kind: 'delivery' | 'invocation';
  outcome: 'success' | 'error' | 'timeout';
  error?: string;
  requestId?: string;
}

export interface ScheduleExecution {
  executionId: string;
  scheduleArn: string;
  scheduleName: string;
  groupName: string;
  targetArn: string;
  scheduledTime: string;
  status: 'pending' | 'succeeded' | 'failed' | 'dead-lettered';
  attempts: ScheduleAttempt[];
  /** Why the execution failed, when it did. */
  failure?: string;
  /** The event the target received (or would have). */
  payload?: unknown;
}

interface PendingAction {
  dueAt: number;
  run: () => Promise<void>;
}

class SchedulerError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const validation = (message: string) => new SchedulerError(400, 'ValidationException', message);
const notNull = (member: string) =>
  validation(
    `1 validation error detected: Value null at '${member}' failed to satisfy constraint: Member must not be null`,
  );

/** Lambda's asynchronous retries after a function error: one minute, then two. */
const LAMBDA_ASYNC_RETRY_DELAYS_MS = [60_000, 120_000];
/** Lambda keeps an asynchronous event at most six hours. */
const LAMBDA_MAX_EVENT_AGE_MS = 6 * 3600_000;

export class SchedulerStandIn extends HttpStandIn {
  readonly executions: ScheduleExecution[] = [];
  private readonly schedules = new Map<string, Schedule>();
  private readonly groups = new Set<string>(['default']);
  private pending: PendingAction[] = [];
  private exclusive: Promise<unknown> = Promise.resolve();
  /** Stops background firing; set while it runs. */
  private stopFiring: (() => void) | undefined;
  private running: Promise<void> | undefined;
  private runAgain = false;
  /** The last error of the background timer (a bug in the sandbox, not a target failure). */
  lastTimerError: Error | undefined;

  constructor(
    private readonly clock: SandboxClock,
    private readonly invoker: LambdaInvoker,
    private readonly sqs?: SqsStandIn,
    options: { groups?: string[] } = {},
  ) {
    super('scheduler', clock);
    for (const group of options.groups ?? []) this.groups.add(group);
    this.route('POST', '/schedules/:name', (r) => this.createSchedule(r));
    this.route('PUT', '/schedules/:name', (r) => this.updateSchedule(r));
    this.route('GET', '/schedules/:name', (r) => this.getSchedule(r));
    this.route('DELETE', '/schedules/:name', (r) => this.deleteSchedule(r));
    this.route('GET', '/schedules', (r) => this.listSchedules(r));
  }

  // ---- running schedules --------------------------------------------------------

  /** Fires every schedule and retry due on the clock now and awaits what they run, repeating until nothing is due. */
  runDue(): Promise<void> {
    return this.serially(async () => {
      for (;;) {
        const now = this.clock.now().getTime();
        const due: PendingAction[] = [];
        for (const schedule of this.schedules.values()) {
          if (schedule.state !== 'ENABLED' || schedule.nextFireAt === undefined || schedule.nextFireAt > now)
            continue;
          due.push(...this.fire(schedule, now));
        }
        const ready = this.pending.filter((a) => a.dueAt <= now);
        this.pending = this.pending.filter((a) => a.dueAt > now);
        due.push(...ready);
        if (due.length === 0) return;
        due.sort((a, b) => a.dueAt - b.dueAt);
        await Promise.all(due.map((a) => a.run()));
      }
    });
  }

  /** Background firing for the running sandbox: on every clock move and on a real-time timer. */
  startTimer(intervalMs = 250): void {
    if (this.stopFiring) return;
    this.stopFiring = this.clock.whenTimePasses(() => this.runSoon(), intervalMs);
  }

  async stopTimer(): Promise<void> {
    const stop = this.stopFiring;
    if (!stop) return;
    this.stopFiring = undefined;
    stop();
    await this.running;
  }

  override async stop(): Promise<void> {
    await this.stopTimer();
    await super.stop();
  }

  state() {
    return {
      schedules: [...this.schedules.values()].map((s) => ({
        ...this.describe(s),
        NextInvocation: s.nextFireAt === undefined ? undefined : new Date(s.nextFireAt).toISOString(),
      })),
      pendingRetries: this.pending.map((a) => new Date(a.dueAt).toISOString()),
      executions: this.executions,
    };
  }

  private runSoon(): void {
    if (this.running) {
      this.runAgain = true;
      return;
    }
    this.running = (async () => {
      do {
        this.runAgain = false;
        try {
          await this.runDue();
        } catch (error) {
          this.lastTimerError = error as Error;
        }
      } while (this.runAgain && this.stopFiring);
    })().finally(() => {
      this.running = undefined;
    });
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.exclusive.then(work, work);
    this.exclusive = next.catch(() => undefined);
    return next;
  }

  /** Starts one execution of a due schedule and advances the schedule to its next time. */
  private fire(schedule: Schedule, now: number): PendingAction[] {
    const scheduledTime = schedule.nextFireAt ?? now;
    if (schedule.rateMs !== undefined) {
      // Like Scheduler, one invocation for the time that passed, not one per missed interval.
      const next =
        scheduledTime + schedule.rateMs * (Math.floor((now - scheduledTime) / schedule.rateMs) + 1);
      schedule.nextFireAt = schedule.endDate !== undefined && next > schedule.endDate ? undefined : next;
    } else {
      schedule.nextFireAt = undefined;
    }
    const execution: ScheduleExecution = {
      executionId: randomUUID(),
      scheduleArn: schedule.arn,
      scheduleName: schedule.name,
      groupName: schedule.groupName,
      targetArn: schedule.target.Arn,
      scheduledTime: new Date(scheduledTime).toISOString(),
      status: 'pending',
      attempts: [],
    };
    this.executions.push(execution);
    schedule.running += 1;
    const target = structuredClone(schedule.target);
    return [{ dueAt: now, run: () => this.deliver(schedule, target, execution, scheduledTime, 0) }];
  }

  private async deliver(
    schedule: Schedule,
    target: Target,
    execution: ScheduleExecution,
    scheduledTime: number,
    retry: number,
  ): Promise<void> {
    const now = this.clock.now().getTime();
    const input = fillContextAttributes(
      target.Input,
      schedule.arn,
      scheduledTime,
      execution.executionId,
      retry + 1,
    );
    const failure = this.handOver(target, input, execution);
    execution.attempts.push({
      at: new Date(now).toISOString(),
      kind: 'delivery',
      outcome: failure ? 'error' : 'success',
      ...(failure ? { error: `${failure.code}: ${failure.message}` } : {}),
    });
    if (!failure) {
      const functionName = this.invoker.functionNameFromArn(target.Arn);
      if (functionName === undefined) {
        execution.status = 'succeeded';
        this.completed(schedule);
        return;
      }
      // Scheduler's part ends when Lambda accepts the asynchronous invocation.
      this.completed(schedule);
      await this.invokeAsync(functionName, execution, now, 0);
      return;
    }
    const { MaximumRetryAttempts, MaximumEventAgeInSeconds } = target.RetryPolicy;
    const backoff = Math.min(2 ** retry * 1000, 300_000);
    const ageAtRetry = now + backoff - scheduledTime;
    if (retry < MaximumRetryAttempts && ageAtRetry <= MaximumEventAgeInSeconds * 1000) {
      this.pending.push({
        dueAt: now + backoff,
        run: () => this.deliver(schedule, target, execution, scheduledTime, retry + 1),
      });
      return;
    }
    const condition = retry >= MaximumRetryAttempts ? 'MaximumRetryAttempts' : 'MaximumEventAgeInSeconds';
    execution.failure = `${failure.code}: ${failure.message}`;
    execution.status = this.deadLetter(schedule, target, input, failure, condition, retry)
      ? 'dead-lettered'
      : 'failed';
    this.completed(schedule);
  }

  /** Hands the event to the target; returns the failure Scheduler would see, or undefined. */
  private handOver(
    target: Target,
    input: string | undefined,
    execution: ScheduleExecution,
  ): { code: string; message: string } | undefined {
    const functionName = this.invoker.functionNameFromArn(target.Arn);
    if (functionName !== undefined) {
      if (!this.invoker.has(functionName)) {
        return { code: 'ResourceNotFoundException', message: `Function not found: ${target.Arn}` };
      }
      // A templated Lambda target passes the input as the invocation payload, which must be JSON.
      try {
        execution.payload = input === undefined ? {} : JSON.parse(input);
      } catch {
        return { code: 'InvalidRequestContentException', message: 'Could not parse request body into json' };
      }
      return undefined;
    }
    const queue = this.sqs?.queueNameFromArn(target.Arn);
    if (queue !== undefined && this.sqs) {
      execution.payload = input ?? '';
      try {
        this.sqs.enqueue(queue, input ?? '{}');
        return undefined;
      } catch (error) {
        return { code: 'InvalidParameterValue', message: (error as Error).message };
      }
    }
    return {
      code: 'ResourceNotFoundException',
      message: `The target ${target.Arn} does not exist in the sandbox.`,
    };
  }

  private async invokeAsync(
    functionName: string,
    execution: ScheduleExecution,
    acceptedAt: number,
    retry: number,
  ): Promise<void> {
    const result = await this.invoker.invoke(functionName, execution.payload, 'scheduler');
    execution.attempts.push({
      at: this.clock.now().toISOString(),
      kind: 'invocation',
      outcome: result.outcome,
      requestId: result.requestId,
      ...(result.outcome !== 'success' ? { error: result.error } : {}),
    });
    if (result.outcome === 'success') {
      execution.status = 'succeeded';
      return;
    }
    const allowed = Math.min(this.invoker.get(functionName)?.maximumRetryAttempts ?? 2, 2);
    const delay = LAMBDA_ASYNC_RETRY_DELAYS_MS[retry];
    const dueAt = this.clock.now().getTime() + (delay ?? 0);
    if (retry < allowed && delay !== undefined && dueAt - acceptedAt <= LAMBDA_MAX_EVENT_AGE_MS) {
      this.pending.push({
        dueAt,
        run: () => this.invokeAsync(functionName, execution, acceptedAt, retry + 1),
      });
      return;
    }
    execution.status = 'failed';
    execution.failure = result.error;
  }

  /** Sends the dead-letter event to the schedule's DLQ; false when there is none the sandbox can reach. */
  private deadLetter(
    schedule: Schedule,
    target: Target,
    input: string | undefined,
    failure: { code: string; message: string },
    condition: string,
    retries: number,
  ): boolean {
    const arn = target.DeadLetterConfig?.Arn;
    const queue = arn === undefined ? undefined : this.sqs?.queueNameFromArn(arn);
    if (queue === undefined || !this.sqs) return false;
    const text = (value: string) => ({ DataType: 'String', StringValue: value });
    this.sqs.enqueue(queue, input ?? '{}', {
      attributes: {
        ERROR_CODE: text(failure.code),
        ERROR_MESSAGE: text(failure.message),
        EXHAUSTED_RETRY_CONDITION: text(condition),
        RETRY_ATTEMPTS: text(String(retries)),
        TARGET_ARN: text(target.Arn),
        'X-Amz-Scheduler-Attempt': text(String(retries + 1)),
        'X-Amz-Scheduler-Group': text(schedule.groupName),
        'X-Amz-Scheduler-Schedule': text(schedule.name),
        'X-Amz-Scheduler-Schedule-Arn': text(schedule.arn),
      },
    });
    return true;
  }

  /** An execution finished on Scheduler's side: a finished schedule with ActionAfterCompletion DELETE goes away. */
  private completed(schedule: Schedule): void {
    schedule.running -= 1;
    const key = scheduleKey(schedule.groupName, schedule.name);
    if (
      schedule.running === 0 &&
      schedule.nextFireAt === undefined &&
      schedule.actionAfterCompletion === 'DELETE' &&
      this.schedules.get(key) === schedule
    ) {
      this.schedules.delete(key);
    }
  }

  // ---- the HTTP API ----------------------------------------------------------

  protected authenticate(request: StandInRequest): StandInResponse | undefined {
    const authorization = headerOf(request, 'authorization');
    if (authorization === undefined && !request.query.has('X-Amz-Signature')) {
      return this.error(
        new SchedulerError(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token'),
      );
    }
    if (
      authorization !== undefined &&
      !/^AWS4-HMAC-SHA256 Credential=[^/]+\/\d{8}\/[^/]+\/scheduler\/aws4_request, ?SignedHeaders=[^,]+, ?Signature=[0-9a-f]{64}$/.test(
        authorization,
      )
    ) {
      return this.error(
        new SchedulerError(
          403,
          'IncompleteSignatureException',
          `Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' for scheduler with AWS4-HMAC-SHA256.`,
        ),
      );
    }
    return undefined;
  }

  protected faultResponse(status: number): StandInResponse {
    if (status === 429) return this.error(new SchedulerError(429, 'ThrottlingException', 'Rate exceeded'));
    return this.error(
      new SchedulerError(
        status,
        'InternalServerException',
        'Unexpected error encountered while processing the request.',
      ),
    );
  }

  protected routeNotFound(): StandInResponse {
    return this.error(new SchedulerError(404, 'UnknownOperationException', 'Unknown operation'));
  }

  protected malformedBody(message: string): StandInResponse {
    return this.error(
      new SchedulerError(400, 'ValidationException', `Request body is not valid JSON: ${message}`),
    );
  }

  private error(error: SchedulerError): StandInResponse {
    return json(
      error.status,
      { Message: error.message },
      { 'x-amzn-errortype': error.code, 'x-amzn-requestid': randomUUID() },
    );
  }

  private ok(body: unknown): StandInResponse {
    return json(200, body, { 'x-amzn-requestid': randomUUID() });
  }

  private guarded(work: () => unknown): StandInResponse {
    try {
      return this.ok(work());
    } catch (error) {
      if (error instanceof SchedulerError) return this.error(error);
      throw error;
    }
  }

  private createSchedule(request: StandInRequest): StandInResponse {
    return this.guarded(() => {
      const input = jsonBody<Record<string, unknown>>(request) ?? {};
      if (typeof input !== 'object' || Array.isArray(input))
        throw validation('Request body must be a JSON object.');
      const name = validName(request.params.name ?? '');
      const groupName = this.group(input.GroupName);
      if (this.schedules.has(scheduleKey(groupName, name))) {
        throw new SchedulerError(409, 'ConflictException', `Schedule ${name} already exists.`);
      }
      const schedule = this.parseSchedule(name, groupName, input);
      this.schedules.set(scheduleKey(groupName, name), schedule);
      return { ScheduleArn: schedule.arn };
    });
  }

  /** UpdateSchedule replaces the whole definition (unset fields take their defaults), keeping CreationDate. */
  private updateSchedule(request: StandInRequest): StandInResponse {
    return this.guarded(() => {
      const input = jsonBody<Record<string, unknown>>(request) ?? {};
      if (typeof input !== 'object' || Array.isArray(input))
        throw validation('Request body must be a JSON object.');
      const name = validName(request.params.name ?? '');
      const groupName = this.group(input.GroupName);
      const existing = this.find(groupName, name);
      const schedule = this.parseSchedule(name, groupName, input);
      schedule.creationDate = existing.creationDate;
      this.schedules.set(scheduleKey(groupName, name), schedule);
      return { ScheduleArn: schedule.arn };
    });
  }

  private getSchedule(request: StandInRequest): StandInResponse {
    return this.guarded(() => {
      const name = validName(request.params.name ?? '');
      return this.describe(this.find(this.group(request.query.get('groupName') ?? undefined), name));
    });
  }

  private deleteSchedule(request: StandInRequest): StandInResponse {
    return this.guarded(() => {
      const name = validName(request.params.name ?? '');
      const schedule = this.find(this.group(request.query.get('groupName') ?? undefined), name);
      this.schedules.delete(scheduleKey(schedule.groupName, schedule.name));
      return {};
    });
  }

  private listSchedules(request: StandInRequest): StandInResponse {
    return this.guarded(() => {
      const q = request.query;
      const maxText = q.get('MaxResults');
      const max = maxText === null ? 100 : Number(maxText);
      if (!Number.isInteger(max) || max < 1 || max > 100) {
        throw validation(
          `1 validation error detected: Value '${maxText}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100`,
        );
      }
      const state = q.get('State');
      if (state !== null && state !== 'ENABLED' && state !== 'DISABLED') {
        throw validation(
          `1 validation error detected: Value '${state}' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]`,
        );
      }
      const group = q.get('ScheduleGroup');
      const prefix = q.get('NamePrefix') ?? '';
      const matching = [...this.schedules.values()]
        .filter(
          (s) =>
            (group === null || s.groupName === group) &&
            s.name.startsWith(prefix) &&
            (state === null || s.state === state),
        )
        .sort((a, b) => scheduleKey(a.groupName, a.name).localeCompare(scheduleKey(b.groupName, b.name)));
      let start = 0;
      const token = q.get('NextToken');
      if (token !== null) {
        const after = decodeToken(token);
        if (after === undefined) throw validation('Invalid NextToken.');
        start = matching.findIndex((s) => scheduleKey(s.groupName, s.name) > after);
        if (start === -1) start = matching.length;
      }
      const page = matching.slice(start, start + max);
      const last = page.at(-1);
      const more = start + max < matching.length;
      return {
        Schedules: page.map((s) => ({
          Arn: s.arn,
          CreationDate: s.creationDate / 1000,
          GroupName: s.groupName,
          LastModificationDate: s.lastModificationDate / 1000,
          Name: s.name,
          State: s.state,
          Target: { Arn: s.target.Arn },
        })),
        ...(more && last
          ? { NextToken: Buffer.from(scheduleKey(last.groupName, last.name)).toString('base64') }
          : {}),
      };
    });
  }

  private group(value: unknown): string {
    if (value === undefined || value === null || value === '') return 'default';
    if (typeof value !== 'string' || !/^[0-9a-zA-Z-_.]{1,64}$/.test(value)) {
      throw validation(
        `1 validation error detected: Value '${String(value)}' at 'groupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9a-zA-Z-_.]+`,
      );
    }
    if (!this.groups.has(value))
      throw new SchedulerError(404, 'ResourceNotFoundException', `Schedule group ${value} does not exist.`);
    return value;
  }

  private find(groupName: string, name: string): Schedule {
    const schedule = this.schedules.get(scheduleKey(groupName, name));
    if (!schedule)
      throw new SchedulerError(404, 'ResourceNotFoundException', `Schedule ${name} does not exist.`);
    return schedule;
  }

  private parseSchedule(name: string, groupName: string, input: Record<string, unknown>): Schedule {
    const expression = input.ScheduleExpression;
    if (expression === undefined || expression === null) throw notNull('scheduleExpression');
    if (typeof expression !== 'string' || expression.length > 256)
      throw validation('Invalid Schedule Expression.');
    const window = input.FlexibleTimeWindow as Record<string, unknown> | undefined | null;
    if (window === undefined || window === null) throw notNull('flexibleTimeWindow');
    if (window.Mode !== 'OFF' && window.Mode !== 'FLEXIBLE') {
      throw validation(
        `1 validation error detected: Value '${String(window.Mode)}' at 'flexibleTimeWindow.mode' failed to satisfy constraint: Member must satisfy enum value set: [OFF, FLEXIBLE]`,
      );
    }
    const windowMinutes = window.MaximumWindowInMinutes;
    if (
      window.Mode === 'FLEXIBLE' &&
      (typeof windowMinutes !== 'number' ||
        !Number.isInteger(windowMinutes) ||
        windowMinutes < 1 ||
        windowMinutes > 1440)
    ) {
      throw validation(
        'MaximumWindowInMinutes must be between 1 and 1440 when the flexible time window mode is FLEXIBLE.',
      );
    }
    if (window.Mode === 'OFF' && windowMinutes !== undefined) {
      throw validation('MaximumWindowInMinutes must not be set when the flexible time window mode is OFF.');
    }
    const timezone = input.ScheduleExpressionTimezone ?? 'UTC';
    if (typeof timezone !== 'string' || !isTimeZone(timezone))
      throw validation(`Invalid timezone ${String(timezone)}.`);
    const state = input.State ?? 'ENABLED';
    if (state !== 'ENABLED' && state !== 'DISABLED') {
      throw validation(
        `1 validation error detected: Value '${String(state)}' at 'state' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]`,
      );
    }
    const action = input.ActionAfterCompletion ?? 'NONE';
    if (action !== 'NONE' && action !== 'DELETE') {
      throw validation(
        `1 validation error detected: Value '${String(action)}' at 'actionAfterCompletion' failed to satisfy constraint: Member must satisfy enum value set: [NONE, DELETE]`,
      );
    }
    const description = input.Description;
    if (description !== undefined && (typeof description !== 'string' || description.length > 512)) {
      throw validation('Description must be at most 512 characters.');
    }
    const startDate = epochMs(input.StartDate, 'startDate');
    const endDate = epochMs(input.EndDate, 'endDate');
    if (startDate !== undefined && endDate !== undefined && endDate <= startDate) {
      throw validation('The EndDate must be after the StartDate.');
    }
    const target = parseTarget(input.Target);
    const now = this.clock.now().getTime();

    let nextFireAt: number | undefined;
    let rateMs: number | undefined;
    const at = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/.exec(expression);
    const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
    if (at) {
      const [y, mo, d, h, mi, s] = at.slice(1).map(Number) as [
        number,
        number,
        number,
        number,
        number,
        number,
      ];
      const utc = Date.UTC(y, mo - 1, d, h, mi, s);
      const check = new Date(utc);
      if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) {
        throw validation(`Invalid Schedule Expression ${expression}.`);
      }
      nextFireAt = wallTimeToUtc(utc, timezone);
    } else if (rate) {
      const value = Number(rate[1]);
      const unit = rate[2] ?? '';
      if (value < 1) throw validation(`Invalid Schedule Expression ${expression}.`);
      rateMs =
        value * (unit.startsWith('minute') ? 60_000 : unit.startsWith('hour') ? 3_600_000 : 86_400_000);
      // A rate schedule runs first at its StartDate, or right away without one.
      nextFireAt = startDate ?? now;
      if (endDate !== undefined && nextFireAt > endDate) nextFireAt = undefined;
    } else if (/^cron\(.+\)$/.test(expression)) {
      throw validation(`The sandbox does not evaluate cron expressions: ${expression}. Use at() or rate().`);
    } else {
      throw validation(`Invalid Schedule Expression ${expression}.`);
    }

    return {
      name,
      groupName,
      arn: `arn:aws:scheduler:${this.invoker.identity.region}:${this.invoker.identity.accountId}:schedule/${groupName}/${name}`,
      expression,
      timezone,
      nextFireAt,
      ...(rateMs !== undefined ? { rateMs } : {}),
      ...(startDate !== undefined ? { startDate } : {}),
      ...(endDate !== undefined ? { endDate } : {}),
      ...(typeof description === 'string' ? { description } : {}),
      state,
      actionAfterCompletion: action,
      flexibleTimeWindow: {
        Mode: window.Mode,
        ...(typeof windowMinutes === 'number' ? { MaximumWindowInMinutes: windowMinutes } : {}),
      },
      target,
      ...(typeof input.KmsKeyArn === 'string' ? { kmsKeyArn: input.KmsKeyArn } : {}),
      creationDate: now,
      lastModificationDate: now,
      running: 0,
    };
  }

  private describe(s: Schedule) {
    return {
      ActionAfterCompletion: s.actionAfterCompletion,
      Arn: s.arn,
      CreationDate: s.creationDate / 1000,
      ...(s.description !== undefined ? { Description: s.description } : {}),
      ...(s.endDate !== undefined ? { EndDate: s.endDate / 1000 } : {}),
      FlexibleTimeWindow: s.flexibleTimeWindow,
      GroupName: s.groupName,
      ...(s.kmsKeyArn !== undefined ? { KmsKeyArn: s.kmsKeyArn } : {}),
      LastModificationDate: s.lastModificationDate / 1000,
      Name: s.name,
      ScheduleExpression: s.expression,
      ScheduleExpressionTimezone: s.timezone,
      ...(s.startDate !== undefined ? { StartDate: s.startDate / 1000 } : {}),
      State: s.state,
      Target: s.target,
    };
  }
}

function parseTarget(raw: unknown): Target {
  if (raw === undefined || raw === null) throw notNull('target');
  if (typeof raw !== 'object' || Array.isArray(raw)) throw validation('Target must be an object.');
  const t = raw as Record<string, unknown>;
  if (t.Arn === undefined || t.Arn === null) throw notNull('target.arn');
  if (typeof t.Arn !== 'string' || t.Arn.length < 1 || t.Arn.length > 1600)
    throw validation('Invalid target ARN.');
  if (t.RoleArn === undefined || t.RoleArn === null) throw notNull('target.roleArn');
  if (
    typeof t.RoleArn !== 'string' ||
    !/^arn:aws(-[a-z]+)?:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(t.RoleArn)
  ) {
    throw validation(
      `1 validation error detected: Value '${String(t.RoleArn)}' at 'target.roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern: ^arn:aws(-[a-z]+)?:iam::\\d{12}:role\\/[\\w+=,.@/-]+$`,
    );
  }
  if (t.Input !== undefined && (typeof t.Input !== 'string' || t.Input.length < 1 || t.Input.length > 8192)) {
    throw validation('Target Input must be 1 to 8192 characters.');
  }
  const policy = (t.RetryPolicy ?? {}) as Record<string, unknown>;
  const attempts = policy.MaximumRetryAttempts ?? 185;
  const age = policy.MaximumEventAgeInSeconds ?? 86_400;
  if (typeof attempts !== 'number' || !Number.isInteger(attempts) || attempts < 0 || attempts > 185) {
    throw validation(
      `1 validation error detected: Value '${String(attempts)}' at 'target.retryPolicy.maximumRetryAttempts' failed to satisfy constraint: Member must have value between 0 and 185`,
    );
  }
  if (typeof age !== 'number' || !Number.isInteger(age) || age < 60 || age > 86_400) {
    throw validation(
      `1 validation error detected: Value '${String(age)}' at 'target.retryPolicy.maximumEventAgeInSeconds' failed to satisfy constraint: Member must have value between 60 and 86400`,
    );
  }
  const dlq = t.DeadLetterConfig as { Arn?: unknown } | undefined;
  if (
    dlq?.Arn !== undefined &&
    (typeof dlq.Arn !== 'string' || !/^arn:aws(-[a-z]+)?:sqs:[a-z0-9-]+:\d{12}:[a-zA-Z0-9-_]+$/.test(dlq.Arn))
  ) {
    throw validation(
      `1 validation error detected: Value '${String(dlq.Arn)}' at 'target.deadLetterConfig.arn' failed to satisfy constraint: Member must satisfy regular expression pattern: ^arn:aws(-[a-z]+)?:sqs:[a-z0-9\\-]+:\\d{12}:[a-zA-Z0-9\\-_]+$`,
    );
  }
  return {
    ...t,
    Arn: t.Arn,
    RoleArn: t.RoleArn,
    RetryPolicy: { MaximumRetryAttempts: attempts, MaximumEventAgeInSeconds: age },
  } as Target;
}

function validName(name: string): string {
  if (!/^[0-9a-zA-Z-_.]{1,64}$/.test(name)) {
    throw validation(
      `1 validation error detected: Value '${name}' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [0-9a-zA-Z-_.]+`,
    );
  }
  return name;
}

function epochMs(value: unknown, member: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw validation(`Invalid ${member}.`);
  return Math.round(value * 1000);
}

function scheduleKey(group: string, name: string): string {
  return `${group}/${name}`;
}

function decodeToken(token: string): string | undefined {
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  return /^[0-9a-zA-Z-_.]+\/[0-9a-zA-Z-_.]+$/.test(decoded) ? decoded : undefined;
}

function headerOf(request: StandInRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The UTC instant of a wall-clock time (given as if it were UTC) in `zone`, correct across DST changes. */
function wallTimeToUtc(wallAsUtc: number, zone: string): number {
  const offsetAt = (instant: number) => {
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    }).formatToParts(new Date(instant));
    const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
    const local = Date.UTC(
      get('year'),
      get('month') - 1,
      get('day'),
      get('hour'),
      get('minute'),
      get('second'),
    );
    return local - Math.floor(instant / 1000) * 1000;
  };
  const first = wallAsUtc - offsetAt(wallAsUtc);
  return wallAsUtc - offsetAt(first);
}

/** Scheduler's context attributes, replaced in a templated target's input. */
function fillContextAttributes(
  input: string | undefined,
  scheduleArn: string,
  scheduledTime: number,
  executionId: string,
  attempt: number,
): string | undefined {
  if (input === undefined) return undefined;
  return input
    .replaceAll('<aws.scheduler.schedule-arn>', scheduleArn)
    .replaceAll(
      '<aws.scheduler.scheduled-time>',
      new Date(scheduledTime).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    )
    .replaceAll('<aws.scheduler.execution-id>', executionId)
    .replaceAll('<aws.scheduler.attempt-number>', String(attempt));
}
