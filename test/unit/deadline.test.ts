import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { withDeadline } from '../../lambdas/core/deadline';

class Expired extends Error {}

describe('withDeadline', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('gives the work its answer when it comes in time, and leaves no timer behind', async () => {
    await expect(
      withDeadline(
        1000,
        () => new Expired(),
        async () => 'done',
      ),
    ).resolves.toBe('done');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('passes the work’s own failure on when it fails in time', async () => {
    const failure = new Error('refused');
    await expect(
      withDeadline(
        1000,
        () => new Expired(),
        () => Promise.reject(failure),
      ),
    ).rejects.toBe(failure);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('settles at the deadline although the work ignores the signal, and aborts the signal', async () => {
    let seen: AbortSignal | undefined;
    const call = withDeadline(
      1000,
      () => new Expired(),
      (signal) => {
        seen = signal;
        return new Promise<never>(() => {}); // a retry pause nothing interrupts
      },
    );
    const outcome = call.catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(999);
    expect(seen?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(await outcome).toBeInstanceOf(Expired);
    expect(seen?.aborted).toBe(true);
  });

  it('reports work that ends because the signal fired as expired, not as its abort error', async () => {
    const call = withDeadline(
      50,
      () => new Expired(),
      (signal) =>
        new Promise<never>((_, reject) => {
          signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
        }),
    );
    const outcome = call.catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(50);
    expect(await outcome).toBeInstanceOf(Expired);
  });

  it('turns work that throws before it starts into a rejection', async () => {
    const call = withDeadline(
      50,
      () => new Expired(),
      () => {
        throw new TypeError('bad arguments');
      },
    );
    await expect(call).rejects.toBeInstanceOf(TypeError);
  });
});
