// The sandbox's clock. Every stand-in, the queues and the scheduler read it, so
// a test or the control API can move time (expire a grant, time out a page)
// without waiting.

import type { Clock } from '../lambdas/core/ports';

export type ClockListener = (now: Date) => void;

export class SandboxClock implements Clock {
  private offsetMs = 0;
  private frozenAt: number | undefined;
  private readonly listeners = new Set<ClockListener>();

  /** Starts at `start` (default: real time) and runs at real speed unless `frozen`. */
  constructor(options: { start?: Date; frozen?: boolean } = {}) {
    if (options.start) this.offsetMs = options.start.getTime() - Date.now();
    if (options.frozen) this.frozenAt = this.now().getTime();
  }

  now(): Date {
    return new Date(this.frozenAt ?? Date.now() + this.offsetMs);
  }

  /** Moves time forward; listeners (scheduler, queues) run what fell due. */
  advance(ms: number): Date {
    if (ms < 0) throw new Error('the sandbox clock only moves forward');
    if (this.frozenAt !== undefined) this.frozenAt += ms;
    else this.offsetMs += ms;
    const now = this.now();
    for (const listener of this.listeners) listener(now);
    return now;
  }

  /**
   * Runs `work` whenever time passes: each `intervalMs` of real time, and every time the clock is
   * moved. Background delivery (retries, queues, schedules) uses it. Returns the function that stops it.
   */
  whenTimePasses(work: () => void, intervalMs: number): () => void {
    const timer = setInterval(work, intervalMs);
    timer.unref();
    const unsubscribe = this.onAdvance(work);
    return () => {
      clearInterval(timer);
      unsubscribe();
    };
  }

  onAdvance(listener: ClockListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
