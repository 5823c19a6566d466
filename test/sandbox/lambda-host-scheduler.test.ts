// The EventBridge Scheduler stand-in through the real @aws-sdk/client-scheduler,
// with schedules firing as the sandbox clock moves.

import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  ResourceNotFoundException,
  SchedulerClient,
  ValidationException,
} from '@aws-sdk/client-scheduler';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SandboxClock } from '../../sandbox/clock';
import { LambdaHost } from '../../sandbox/lambda-host';

const clock = new SandboxClock({ start: new Date('2026-11-21T09:00:00.000Z'), frozen: true });
const revoked: unknown[] = [];
let failures = 0;

const host = new LambdaHost({
  clock,
  functions: [
    {
      name: 'revoke',
      handler: async (event: unknown) => {
        if (failures > 0) {
          failures -= 1;
          throw new Error('Okta is down');
        }
        revoked.push(event);
      },
    },
  ],
  queues: [{ name: 'scheduler-dlq' }],
});

let scheduler: SchedulerClient;
const role = 'arn:aws:iam::000000000000:role/loopgate-scheduler';
const revokeArn = 'arn:aws:lambda:us-east-1:000000000000:function:revoke';

beforeAll(async () => {
  const urls = await host.start({ background: false });
  scheduler = new SchedulerClient({
    endpoint: urls.scheduler,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
});
afterAll(async () => {
  scheduler.destroy();
  await host.stop();
});
beforeEach(() => {
  revoked.length = 0;
  failures = 0;
});

function expiry(
  name: string,
  at: string,
  extra: Partial<CreateScheduleCommandInput> = {},
): CreateScheduleCommandInput {
  return {
    Name: name,
    ScheduleExpression: `at(${at})`,
    FlexibleTimeWindow: { Mode: 'OFF' },
    ActionAfterCompletion: 'DELETE',
    Target: { Arn: revokeArn, RoleArn: role, Input: JSON.stringify({ requestId: name }) },
    ...extra,
  };
}

const errorOf = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('the scheduler API', () => {
  it('creates a schedule and reads it back with the retry policy defaults', async () => {
    const { ScheduleArn } = await scheduler.send(
      new CreateScheduleCommand(
        expiry('read-back', '2026-11-22T09:00:00', { ActionAfterCompletion: 'NONE' }),
      ),
    );
    expect(ScheduleArn).toBe('arn:aws:scheduler:us-east-1:000000000000:schedule/default/read-back');

    const schedule = await scheduler.send(new GetScheduleCommand({ Name: 'read-back' }));
    expect(schedule).toMatchObject({
      Name: 'read-back',
      GroupName: 'default',
      State: 'ENABLED',
      ScheduleExpression: 'at(2026-11-22T09:00:00)',
      ScheduleExpressionTimezone: 'UTC',
      ActionAfterCompletion: 'NONE',
      Target: { Arn: revokeArn, RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 } },
    });
    expect(schedule.CreationDate).toEqual(clock.now());
    await scheduler.send(new DeleteScheduleCommand({ Name: 'read-back' }));
  });

  it('refuses a duplicate name with ConflictException and an unknown schedule with ResourceNotFoundException', async () => {
    await scheduler.send(new CreateScheduleCommand(expiry('twice', '2026-12-01T00:00:00')));
    expect(
      await errorOf(scheduler.send(new CreateScheduleCommand(expiry('twice', '2026-12-01T00:00:00')))),
    ).toBeInstanceOf(ConflictException);
    await scheduler.send(new DeleteScheduleCommand({ Name: 'twice' }));

    const missing = await errorOf(scheduler.send(new DeleteScheduleCommand({ Name: 'never-created' })));
    expect(missing).toBeInstanceOf(ResourceNotFoundException);
    expect((missing as ResourceNotFoundException).$metadata.httpStatusCode).toBe(404);
    expect(
      await errorOf(scheduler.send(new GetScheduleCommand({ Name: 'twice', GroupName: 'no-such-group' }))),
    ).toBeInstanceOf(ResourceNotFoundException);
  });

  it('validates the expression, the target and the flexible time window', async () => {
    for (const input of [
      expiry('bad-date', '2026-02-30T10:00:00'),
      { ...expiry('bad-format', '2026-11-22'), ScheduleExpression: 'at(2026-11-22 10:00)' },
      expiry('no-window', '2026-11-22T10:00:00', { FlexibleTimeWindow: undefined }),
      expiry('no-role', '2026-11-22T10:00:00', {
        Target: { Arn: revokeArn, RoleArn: undefined as unknown as string },
      }),
      expiry('bad-zone', '2026-11-22T10:00:00', { ScheduleExpressionTimezone: 'Mars/Olympus' }),
      expiry('bad-retries', '2026-11-22T10:00:00', {
        Target: { Arn: revokeArn, RoleArn: role, RetryPolicy: { MaximumRetryAttempts: 186 } },
      }),
    ]) {
      const error = await errorOf(scheduler.send(new CreateScheduleCommand(input)));
      expect(error, input.Name).toBeInstanceOf(ValidationException);
    }
  });

  it('lists schedules page by page with NextToken', async () => {
    for (const n of [1, 2, 3]) {
      await scheduler.send(new CreateScheduleCommand(expiry(`page-${n}`, '2027-01-01T00:00:00')));
    }
    const first = await scheduler.send(new ListSchedulesCommand({ NamePrefix: 'page-', MaxResults: 2 }));
    expect(first.Schedules?.map((s) => s.Name)).toEqual(['page-1', 'page-2']);
    expect(first.NextToken).toBeTruthy();
    const second = await scheduler.send(
      new ListSchedulesCommand({ NamePrefix: 'page-', MaxResults: 2, NextToken: first.NextToken }),
    );
    expect(second.Schedules?.map((s) => s.Name)).toEqual(['page-3']);
    expect(second.NextToken).toBeUndefined();
    expect(second.Schedules?.[0]).toMatchObject({
      GroupName: 'default',
      State: 'ENABLED',
      Target: { Arn: revokeArn },
    });
    for (const n of [1, 2, 3]) await scheduler.send(new DeleteScheduleCommand({ Name: `page-${n}` }));
  });
});

describe('firing', () => {
  it('invokes the target once when the clock passes the time, not before, then deletes the schedule', async () => {
    await scheduler.send(new CreateScheduleCommand(expiry('grant-1', '2026-11-21T10:00:00')));
    clock.advance(59 * 60_000);
    await host.scheduler.runDue();
    expect(revoked).toEqual([]);

    clock.advance(60_000);
    await host.scheduler.runDue();
    expect(revoked).toEqual([{ requestId: 'grant-1' }]);
    expect(await errorOf(scheduler.send(new GetScheduleCommand({ Name: 'grant-1' })))).toBeInstanceOf(
      ResourceNotFoundException,
    );

    clock.advance(24 * 3600_000);
    await host.scheduler.runDue();
    expect(revoked).toHaveLength(1);
  });

  it('keeps a completed schedule with ActionAfterCompletion NONE, without firing it again', async () => {
    const at = new Date(clock.now().getTime() + 60_000).toISOString().slice(0, 19);
    await scheduler.send(new CreateScheduleCommand(expiry('kept', at, { ActionAfterCompletion: 'NONE' })));
    clock.advance(60_000);
    await host.scheduler.runDue();
    clock.advance(3600_000);
    await host.scheduler.runDue();
    expect(revoked).toEqual([{ requestId: 'kept' }]);
    expect((await scheduler.send(new GetScheduleCommand({ Name: 'kept' }))).Name).toBe('kept');
    await scheduler.send(new DeleteScheduleCommand({ Name: 'kept' }));
  });

  it('reads at() in the schedule time zone', async () => {
    // 2026-11-21 is winter time in New York: UTC-5.
    const local = new Date(clock.now().getTime() + 2 * 3600_000 - 5 * 3600_000).toISOString().slice(0, 19);
    await scheduler.send(
      new CreateScheduleCommand(
        expiry('new-york', local, { ScheduleExpressionTimezone: 'America/New_York' }),
      ),
    );
    clock.advance(2 * 3600_000 - 1000);
    await host.scheduler.runDue();
    expect(revoked).toEqual([]);
    clock.advance(1000);
    await host.scheduler.runDue();
    expect(revoked).toEqual([{ requestId: 'new-york' }]);
  });

  it('retries a failing Lambda target with Lambda’s asynchronous retries, then records it failed', async () => {
    failures = 3;
    const at = new Date(clock.now().getTime() + 60_000).toISOString().slice(0, 19);
    await scheduler.send(new CreateScheduleCommand(expiry('flaky', at)));
    clock.advance(60_000);
    await host.scheduler.runDue();
    const execution = () => host.scheduler.executions.find((e) => e.scheduleName === 'flaky');
    expect(execution()?.attempts.filter((a) => a.kind === 'invocation')).toHaveLength(1);

    clock.advance(59_000);
    await host.scheduler.runDue();
    expect(execution()?.attempts.filter((a) => a.kind === 'invocation')).toHaveLength(1);
    clock.advance(1_000);
    await host.scheduler.runDue();
    clock.advance(120_000);
    await host.scheduler.runDue();

    expect(execution()).toMatchObject({ status: 'failed', failure: 'Error: Okta is down' });
    expect(execution()?.attempts.map((a) => [a.kind, a.outcome])).toEqual([
      ['delivery', 'success'],
      ['invocation', 'error'],
      ['invocation', 'error'],
      ['invocation', 'error'],
    ]);
    expect(revoked).toEqual([]);
  });

  it('succeeds on a Lambda retry when the handler recovers', async () => {
    failures = 1;
    const at = new Date(clock.now().getTime() + 60_000).toISOString().slice(0, 19);
    await scheduler.send(new CreateScheduleCommand(expiry('recovers', at)));
    clock.advance(60_000);
    await host.scheduler.runDue();
    clock.advance(60_000);
    await host.scheduler.runDue();
    expect(revoked).toEqual([{ requestId: 'recovers' }]);
    expect(host.scheduler.executions.find((e) => e.scheduleName === 'recovers')?.status).toBe('succeeded');
  });

  it('retries an undeliverable target within the retry policy, then sends the dead-letter event', async () => {
    const at = new Date(clock.now().getTime() + 60_000).toISOString().slice(0, 19);
    await scheduler.send(
      new CreateScheduleCommand(
        expiry('gone', at, {
          Target: {
            Arn: 'arn:aws:lambda:us-east-1:000000000000:function:not-deployed',
            RoleArn: role,
            Input: '{"requestId":"gone"}',
            RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
            DeadLetterConfig: { Arn: 'arn:aws:sqs:us-east-1:000000000000:scheduler-dlq' },
          },
        }),
      ),
    );
    clock.advance(60_000);
    for (let i = 0; i < 3; i++) {
      await host.scheduler.runDue();
      clock.advance(10_000);
    }
    const execution = host.scheduler.executions.find((e) => e.scheduleName === 'gone');
    expect(execution?.status).toBe('dead-lettered');
    expect(execution?.attempts).toHaveLength(3);
    const dlq = host.sqs.state().queues.find((q) => q.name === 'scheduler-dlq');
    expect(dlq?.visible).toEqual([
      expect.objectContaining({
        body: '{"requestId":"gone"}',
        messageAttributes: expect.objectContaining({
          ERROR_CODE: { DataType: 'String', StringValue: 'ResourceNotFoundException' },
          EXHAUSTED_RETRY_CONDITION: { DataType: 'String', StringValue: 'MaximumRetryAttempts' },
        }),
      }),
    ]);
  });

  it('fires in the background when the clock moves', async () => {
    host.scheduler.startTimer(20);
    try {
      const at = new Date(clock.now().getTime() + 60_000).toISOString().slice(0, 19);
      await scheduler.send(new CreateScheduleCommand(expiry('background', at)));
      clock.advance(60_000);
      await expect.poll(() => revoked).toEqual([{ requestId: 'background' }]);
    } finally {
      await host.scheduler.stopTimer();
    }
  });
});

describe('rate schedules', () => {
  it('fire once per interval as the clock moves, and once (not once per missed interval) after a jump', async () => {
    await scheduler.send(
      new CreateScheduleCommand({
        Name: 'every-5-minutes',
        ScheduleExpression: 'rate(5 minutes)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: { Arn: revokeArn, RoleArn: role, Input: '{"sweep":true}' },
      }),
    );
    const sweeps = () => revoked.filter((e) => (e as { sweep?: boolean }).sweep).length;
    const before = sweeps();
    clock.advance(5 * 60_000);
    await host.scheduler.runDue();
    expect(sweeps() - before).toBe(1);
    clock.advance(5 * 60_000);
    await host.scheduler.runDue();
    expect(sweeps() - before).toBe(2);

    clock.advance(10 * 3_600_000);
    await host.scheduler.runDue();
    expect(sweeps() - before).toBe(3);
    await scheduler.send(new DeleteScheduleCommand({ Name: 'every-5-minutes' }));
  });
});
