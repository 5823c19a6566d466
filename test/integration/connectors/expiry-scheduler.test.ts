// EventBridgeExpiryScheduler against the Scheduler stand-in of the sandbox's
// Lambda host, over real HTTP with the real SDK: one schedule per request,
// moved when scheduled again, cancelled idempotently, and firing on the
// sandbox clock into the revoke function with `{requestId}`.

import {
  GetScheduleCommand,
  type GetScheduleCommandOutput,
  ListSchedulesCommand,
  ResourceNotFoundException,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  atExpression,
  createSchedulerClient,
  EventBridgeExpiryScheduler,
} from '../../../lambdas/connectors/scheduler/expiry-scheduler';
import { UpstreamError, ValidationError } from '../../../lambdas/core/errors';
import { SandboxClock } from '../../../sandbox/clock';
import { LambdaHost } from '../../../sandbox/lambda-host';

const START = new Date('2026-11-21T09:00:00.000Z');
const GROUP = 'loopgate-expiry';
const ROLE = 'arn:aws:iam::000000000000:role/loopgate-scheduler';
const REQUEST = '5f0c1d2e-3a4b-4c5d-8e6f-7a8b9c0d1e2f';
const NAME = `loopgate-revoke-${REQUEST}`;
const CREATE_ROUTE = 'POST /schedules/:name';

const clock = new SandboxClock({ start: START, frozen: true });
const revoked: unknown[] = [];
const host = new LambdaHost({
  clock,
  functions: [
    {
      name: 'revoke',
      handler: async (event: unknown) => {
        revoked.push(event);
      },
    },
  ],
  scheduleGroups: [GROUP],
});
const REVOKE_ARN = host.invoker.functionArn('revoke');
const clients: SchedulerClient[] = [];
let reader: SchedulerClient;

function client(options: { timeoutMs?: number } = {}): SchedulerClient {
  const made = createSchedulerClient({
    region: 'us-east-1',
    endpoint: host.urls.scheduler,
    credentials: { accessKeyId: 'AKIASANDBOX', secretAccessKey: 'sandbox' },
    timeoutMs: options.timeoutMs ?? 5_000,
    maxAttempts: 1,
  });
  clients.push(made);
  return made;
}

function expiryScheduler(options: { timeoutMs?: number; groupName?: string } = {}) {
  return new EventBridgeExpiryScheduler({
    client: client(options),
    groupName: options.groupName ?? GROUP,
    target: { arn: REVOKE_ARN, roleArn: ROLE },
  });
}

const hoursFromStart = (h: number) => new Date(START.getTime() + h * 3_600_000);

async function read(name = NAME): Promise<GetScheduleCommandOutput> {
  return reader.send(new GetScheduleCommand({ Name: name, GroupName: GROUP }));
}

async function names(): Promise<string[]> {
  const page = await reader.send(new ListSchedulesCommand({ GroupName: GROUP }));
  return (page.Schedules ?? []).map((s) => s.Name ?? '');
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (e: unknown) => e,
  );
}

beforeAll(async () => {
  await host.start({ background: false });
  reader = client();
});

afterAll(async () => {
  for (const made of clients.splice(0)) made.destroy();
  await host.stop();
});

beforeEach(() => {
  revoked.length = 0;
});

afterEach(async () => {
  host.scheduler.faults.clear();
  // Each test starts with no schedules; the clock only moves forward, so tests schedule after "now".
  for (const name of await names()) await expiryScheduler().cancel(name.slice('loopgate-revoke-'.length));
});

describe('scheduling', () => {
  it('creates loopgate-revoke-<requestId>: at() in UTC, no flexible window, deleted after it runs', async () => {
    const at = hoursFromStart(4);

    await expiryScheduler().schedule(REQUEST, at);

    expect(await names()).toEqual([NAME]);
    expect(await read()).toMatchObject({
      Name: NAME,
      GroupName: GROUP,
      ScheduleExpression: 'at(2026-11-21T13:00:00)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      State: 'ENABLED',
      Target: { Arn: REVOKE_ARN, RoleArn: ROLE, Input: JSON.stringify({ requestId: REQUEST }) },
    });
  });

  it('scheduling again with a new time moves the one schedule', async () => {
    const scheduler = expiryScheduler();
    await scheduler.schedule(REQUEST, hoursFromStart(4));
    const created = await read();

    await scheduler.schedule(REQUEST, hoursFromStart(8));

    expect(await names()).toEqual([NAME]);
    const moved = await read();
    expect(moved.ScheduleExpression).toBe('at(2026-11-21T17:00:00)');
    expect(moved.Target?.Input).toBe(JSON.stringify({ requestId: REQUEST }));
    expect(moved.CreationDate).toEqual(created.CreationDate);
  });

  it('scheduling the same time twice is no error and leaves one schedule', async () => {
    const scheduler = expiryScheduler();

    await scheduler.schedule(REQUEST, hoursFromStart(4));
    await scheduler.schedule(REQUEST, hoursFromStart(4));

    expect(await names()).toEqual([NAME]);
    expect((await read()).ScheduleExpression).toBe('at(2026-11-21T13:00:00)');
  });

  it('keeps other requests’ schedules apart', async () => {
    const other = '9e8d7c6b-5a49-4382-b1a0-f9e8d7c6b5a4';
    const scheduler = expiryScheduler();

    await scheduler.schedule(REQUEST, hoursFromStart(4));
    await scheduler.schedule(other, hoursFromStart(6));
    await scheduler.cancel(REQUEST);

    expect(await names()).toEqual([`loopgate-revoke-${other}`]);
  });

  it('refuses a request id that cannot name a schedule, before calling Scheduler', async () => {
    const calls = host.scheduler.calls.length;

    const error = await errorOf(expiryScheduler().schedule('x'.repeat(60), hoursFromStart(4)));

    expect(error).toBeInstanceOf(ValidationError);
    expect(host.scheduler.calls).toHaveLength(calls);
  });
});

describe('cancelling', () => {
  it('deletes the schedule; cancelling again, or what was never scheduled, is fine', async () => {
    const scheduler = expiryScheduler();
    await scheduler.schedule(REQUEST, hoursFromStart(4));

    await scheduler.cancel(REQUEST);
    expect(await errorOf(read())).toBeInstanceOf(ResourceNotFoundException);

    await scheduler.cancel(REQUEST);
    await scheduler.cancel('0a0a0a0a-0000-4000-8000-000000000000');
    expect(await names()).toEqual([]);
  });
});

describe('firing on the sandbox clock', () => {
  it('invokes the revoke function with {requestId} at the time, once, and the schedule deletes itself', async () => {
    const at = new Date(clock.now().getTime() + 2 * 3_600_000);
    await expiryScheduler().schedule(REQUEST, at);

    clock.advance(2 * 3_600_000 - 1_000);
    await host.scheduler.runDue();
    expect(revoked).toEqual([]);

    clock.advance(1_000);
    await host.scheduler.runDue();
    expect(revoked).toEqual([{ requestId: REQUEST }]);
    expect(await names()).toEqual([]);

    // After it ran, the revoke's own cancel finds nothing, which is fine.
    await expiryScheduler().cancel(REQUEST);
    clock.advance(24 * 3_600_000);
    await host.scheduler.runDue();
    expect(revoked).toHaveLength(1);
  });

  it('a moved schedule fires at the new time, not the old one', async () => {
    const scheduler = expiryScheduler();
    const first = new Date(clock.now().getTime() + 3_600_000);
    await scheduler.schedule(REQUEST, first);
    await scheduler.schedule(REQUEST, new Date(first.getTime() + 3_600_000));

    clock.advance(3_600_000);
    await host.scheduler.runDue();
    expect(revoked).toEqual([]);

    clock.advance(3_600_000);
    await host.scheduler.runDue();
    expect(revoked).toEqual([{ requestId: REQUEST }]);
  });

  it('a cancelled schedule never fires', async () => {
    const scheduler = expiryScheduler();
    await scheduler.schedule(REQUEST, new Date(clock.now().getTime() + 3_600_000));
    await scheduler.cancel(REQUEST);

    clock.advance(2 * 3_600_000);
    await host.scheduler.runDue();

    expect(revoked).toEqual([]);
  });
});

describe('when Scheduler fails', () => {
  it('a 500 on CreateSchedule is an UpstreamError', async () => {
    host.scheduler.faults.set(CREATE_ROUTE, { failNext: 1, status: 500 });

    const error = await errorOf(expiryScheduler().schedule(REQUEST, hoursFromStart(4)));

    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ service: 'aws-scheduler', failure: 'unavailable' });
    expect(await names()).toEqual([]);
  });

  it('a 500 on DeleteSchedule is an UpstreamError, not a silent success', async () => {
    const scheduler = expiryScheduler();
    await scheduler.schedule(REQUEST, hoursFromStart(4));
    host.scheduler.faults.set('DELETE /schedules/:name', { failNext: 1, status: 500 });

    const error = await errorOf(scheduler.cancel(REQUEST));

    expect(error).toMatchObject({ service: 'aws-scheduler', failure: 'unavailable' });
    expect(await names()).toEqual([NAME]);
  });

  it('an answer slower than the timeout is an UpstreamError of kind timeout', async () => {
    host.scheduler.faults.set(CREATE_ROUTE, { delayMs: 400 });

    const error = await errorOf(expiryScheduler({ timeoutMs: 100 }).schedule(REQUEST, hoursFromStart(4)));

    expect(error).toBeInstanceOf(UpstreamError);
    expect(error).toMatchObject({ failure: 'timeout' });
    // The slow call still lands: a retry then meets ConflictException and updates the schedule.
    await expect.poll(() => names()).toEqual([NAME]);
    await expiryScheduler().schedule(REQUEST, hoursFromStart(5));
    expect((await read()).ScheduleExpression).toBe('at(2026-11-21T14:00:00)');
  });

  it('a schedule group that does not exist is an UpstreamError naming it', async () => {
    const error = await errorOf(
      expiryScheduler({ groupName: 'no-such-group' }).schedule(REQUEST, hoursFromStart(4)),
    );

    expect(error).toMatchObject({ service: 'aws-scheduler', failure: 'bad-response' });
    expect((error as Error).message).toContain('no-such-group');
  });
});

describe('atExpression', () => {
  it('writes whole seconds in UTC, rounding milliseconds up so the revoke is never early', () => {
    expect(atExpression(new Date('2026-11-21T13:00:00.000Z'))).toBe('at(2026-11-21T13:00:00)');
    expect(atExpression(new Date('2026-11-21T13:00:00.001Z'))).toBe('at(2026-11-21T13:00:01)');
    expect(atExpression(new Date('2026-12-31T23:59:59.500Z'))).toBe('at(2027-01-01T00:00:00)');
    expect(atExpression(new Date('2026-11-21T14:00:00+01:00'))).toBe('at(2026-11-21T13:00:00)');
  });
});
