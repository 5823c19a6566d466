// Durations as people write them in the catalog and in tickets: `30m`, `4h`, `7d`.
// Internally a duration is a whole number of seconds.

const UNIT_SECONDS = { m: 60, h: 3600, d: 86_400 } as const;
const DURATION = /^([1-9]\d{0,5})([mhd])$/;

/** Seconds in a duration such as `30m`, `4h` or `7d`; undefined if the text is not one. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const [, amount, unit] = match as unknown as [string, string, keyof typeof UNIT_SECONDS];
  return Number(amount) * UNIT_SECONDS[unit];
}

/** The shortest exact rendering: 5400 → `90m`, 14400 → `4h`, 604800 → `7d`. */
export function formatDuration(seconds: number): string {
  if (seconds % UNIT_SECONDS.d === 0) return `${seconds / UNIT_SECONDS.d}d`;
  if (seconds % UNIT_SECONDS.h === 0) return `${seconds / UNIT_SECONDS.h}h`;
  if (seconds % UNIT_SECONDS.m === 0) return `${seconds / UNIT_SECONDS.m}m`;
  return `${seconds}s`;
}
