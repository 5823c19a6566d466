import type { Clock } from '../../lambdas/core/ports';

/** A clock the test moves by hand. */
export class TestClock implements Clock {
  private ms: number;

  constructor(start = '2026-11-21T09:00:00.000Z') {
    this.ms = Date.parse(start);
  }

  now(): Date {
    return new Date(this.ms);
  }

  advance(seconds: number): Date {
    this.ms += seconds * 1000;
    return this.now();
  }
}
