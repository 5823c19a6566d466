// The request store tells its listener of each lifecycle step once the step is
// written, and only then: a write that lost a race is not a step, an event
// recorded within a state is not one either, and a listener that throws never
// makes a stored step look failed (its caller would retry a step already taken).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoRequestStore, type LifecycleStep } from '../../lambdas/connectors/dynamodb/request-store';
import { TransitionConflictError } from '../../lambdas/core/lifecycle';
import { TestClock } from '../support/clock';
import { createTestTable, type TestTable } from '../support/dynamodb';
import { auditBy, newRequest } from '../support/requests';

let table: TestTable;
const steps: LifecycleStep[] = [];
let store: DynamoRequestStore;

beforeAll(async () => {
  table = await createTestTable();
  store = new DynamoRequestStore({
    client: table.client,
    tableName: table.tableName,
    clock: new TestClock(),
    onStep: (step) => steps.push(step),
  });
});

afterAll(() => table.drop());

describe('onStep', () => {
  it('hears a request opened once (not again for the same ticket), then each transition as written', async () => {
    steps.length = 0;
    const input = newRequest();
    const { request } = await store.create(input, auditBy('filed'));
    await store.create(input, auditBy('filed again'));
    const triaging = await store.transition({
      requestId: request.id,
      from: 'RECEIVED',
      to: 'TRIAGING',
      expectedVersion: 1,
      audit: auditBy('triage'),
    });
    await store.recordEvent({
      requestId: request.id,
      state: 'TRIAGING',
      expectedVersion: triaging.version,
      audit: auditBy('a question asked'),
    });
    expect(steps).toEqual([{ request }, { request: triaging, from: 'RECEIVED' }]);
  });

  it('hears nothing of a transition that lost a race', async () => {
    const { request } = await store.create(newRequest(), auditBy('filed'));
    steps.length = 0;
    await expect(
      store.transition({
        requestId: request.id,
        from: 'RECEIVED',
        to: 'TRIAGING',
        expectedVersion: request.version + 1,
        audit: auditBy('stale'),
      }),
    ).rejects.toBeInstanceOf(TransitionConflictError);
    expect(steps).toEqual([]);
  });

  it('keeps the step when the listener throws', async () => {
    const throwing = new DynamoRequestStore({
      client: table.client,
      tableName: table.tableName,
      onStep: () => {
        throw new Error('stdout is gone');
      },
    });
    const { request, created } = await throwing.create(newRequest(), auditBy('filed'));
    expect(created).toBe(true);
    const moved = await throwing.transition({
      requestId: request.id,
      from: 'RECEIVED',
      to: 'TRIAGING',
      expectedVersion: 1,
      audit: auditBy('triage'),
    });
    expect((await throwing.get(request.id))?.state).toBe(moved.state);
  });
});
