import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../lambdas/core/duration';

describe('durations', () => {
  it.each([
    ['30m', 1800],
    ['4h', 14_400],
    ['7d', 604_800],
    [' 90m ', 5400],
  ])('reads %j as %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['', '4', 'h', '0h', '-1h', '1.5h', '4 h', '4H', '1w', '1h30m', '01h', '1234567d'])(
    'rejects %j',
    (text) => {
      expect(parseDuration(text)).toBeUndefined();
    },
  );

  it.each([
    [1800, '30m'],
    [5400, '90m'],
    [14_400, '4h'],
    [86_400, '1d'],
    [90_000, '25h'],
    [45, '45s'],
  ])('writes %i seconds as %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});
