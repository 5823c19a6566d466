import { describe, expect, it } from 'vitest';
import { builtOnFirstCall } from '../../lambdas/platform/cold-start';

describe('builtOnFirstCall', () => {
  it('builds once and reuses the handler', async () => {
    let builds = 0;
    const handler = builtOnFirstCall(async () => {
      builds += 1;
      return async (event: number) => event * 2;
    });
    expect(await Promise.all([handler(1), handler(2), handler(3)])).toEqual([2, 4, 6]);
    expect(builds).toBe(1);
  });

  it('tries again after a failed build', async () => {
    let builds = 0;
    const handler = builtOnFirstCall(async () => {
      builds += 1;
      if (builds === 1) throw new Error('secret store unreachable');
      return async (event: string) => `handled ${event}`;
    });
    await expect(handler('a')).rejects.toThrow('secret store unreachable');
    expect(await handler('b')).toBe('handled b');
    expect(builds).toBe(2);
  });
});
