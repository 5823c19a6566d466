// The holding store on DynamoDB Local: one lease at a time per holding, a
// crashed attempt's lease expiring, a lost lease refusing writes, empty
// holdings forgotten at release, and the sweeper's review list.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoHoldingStore } from '../../lambdas/connectors/dynamodb/holding-store';
import { ConflictError } from '../../lambdas/core/errors';
import type { HoldingRef } from '../../lambdas/core/ports';
import { TestClock } from '../support/clock';
import { createTestTable, type TestTable } from '../support/dynamodb';

let table: TestTable;
const clock = new TestClock();
let store: DynamoHoldingStore;
let n = 0;
const ref = (): HoldingRef => ({
  kind: 'okta-group',
  principal: `00u${++n}`,
  target: '00g1prodreadonly0001',
});

beforeAll(async () => {
  table = await createTestTable();
  store = new DynamoHoldingStore({
    client: table.client,
    tableName: table.tableName,
    clock,
    leaseMs: 90_000,
  });
});

afterAll(() => table?.drop());

describe('the lease', () => {
  it('is held by one attempt at a time, and frees itself when the holder never gives it back', async () => {
    const access = ref();
    const first = await store.lease(access);
    expect(first?.holding).toMatchObject({ ...access, holders: [], outside: false, placed: false });
    expect(await store.lease(access)).toBeUndefined();

    clock.advance(91);
    const second = await store.lease(access);
    expect(second).toBeDefined();
    // The first attempt woke up late: its writes are refused.
    await expect(
      store.save({ ...access, holders: ['r1'], outside: false, placed: true }, first?.token ?? ''),
    ).rejects.toBeInstanceOf(ConflictError);
    await store.save({ ...access, holders: ['r2'], outside: false, placed: true }, second?.token ?? '');
    await store.release(access, first?.token ?? '');
    expect(await store.lease(access)).toBeUndefined();
    await store.release(access, second?.token ?? '');
    expect((await store.lease(access))?.holding).toMatchObject({ holders: ['r2'], placed: true });
  });

  it('forgets a holding with no holders and nothing placed when it is released', async () => {
    const access = ref();
    const lease = await store.lease(access);
    const holding = {
      ...access,
      holders: [],
      outside: true,
      placed: false,
      reviewAt: clock.now().toISOString(),
    };
    await store.save(holding, lease?.token ?? '');
    await store.release(access, lease?.token ?? '');
    clock.advance(1);
    expect(await store.listDue(clock.now(), 100)).not.toContainEqual(expect.objectContaining(access));
  });
});

describe('the review list', () => {
  it('lists holdings whose review time has come, and only while they have one', async () => {
    const due = ref();
    const later = ref();
    for (const [access, inMs] of [
      [due, 60_000],
      [later, 3_600_000],
    ] as const) {
      const lease = await store.lease(access);
      const reviewAt = new Date(clock.now().getTime() + inMs).toISOString();
      await store.save(
        { ...access, holders: ['r'], outside: false, placed: true, reviewAt },
        lease?.token ?? '',
      );
      await store.release(access, lease?.token ?? '');
    }
    const listed = await store.listDue(new Date(clock.now().getTime() + 120_000), 100);
    expect(listed).toContainEqual(expect.objectContaining({ ...due, holders: ['r'], placed: true }));
    expect(listed).not.toContainEqual(expect.objectContaining(later));

    const lease = await store.lease(due);
    await store.save({ ...due, holders: ['r'], outside: false, placed: true }, lease?.token ?? '');
    await store.release(due, lease?.token ?? '');
    expect(await store.listDue(new Date(clock.now().getTime() + 120_000), 100)).not.toContainEqual(
      expect.objectContaining(due),
    );
  });
});
