// Latency and faults per route, set by tests and the control API. A stand-in
// asks before handling a call; if a fault applies it answers with its vendor's
// own error shape for that status (a 429 with the vendor's rate-limit headers,
// a 500 with the vendor's error body).

export interface FaultRule {
  /** Added before the call is handled (also before a fault is answered). */
  delayMs?: number;
  /** Fraction of calls, 0 to 1, that fail with `status`. */
  errorRate?: number;
  /** The next N calls fail with `status`, then the rule stops failing. */
  failNext?: number;
  /** The status a failing call gets: 500 unless set (429 for rate limiting). */
  status?: number;
}

/** A route key is `METHOD /pattern` as the stand-in registered it (e.g. `GET /api/v1/users/:id`), or `*` for every route. */
export class Faults {
  private readonly rules = new Map<string, FaultRule>();

  constructor(private readonly random: () => number = Math.random) {}

  set(routeKey: string, rule: FaultRule): void {
    if (rule.errorRate !== undefined && (rule.errorRate < 0 || rule.errorRate > 1)) {
      throw new RangeError(`errorRate must be between 0 and 1, got ${rule.errorRate}`);
    }
    this.rules.set(routeKey, { ...rule });
  }

  clear(routeKey?: string): void {
    if (routeKey === undefined) this.rules.clear();
    else this.rules.delete(routeKey);
  }

  list(): Record<string, FaultRule> {
    return Object.fromEntries(this.rules);
  }

  /** Waits out any delay, then returns the status to fail with, or undefined to handle the call normally. */
  async apply(routeKey: string): Promise<number | undefined> {
    let status: number | undefined;
    for (const key of [routeKey, '*']) {
      const rule = this.rules.get(key);
      if (!rule) continue;
      if (rule.delayMs) await new Promise((resolve) => setTimeout(resolve, rule.delayMs));
      if (status !== undefined) continue;
      if (rule.failNext && rule.failNext > 0) {
        rule.failNext -= 1;
        status = rule.status ?? 500;
      } else if (rule.errorRate && this.random() < rule.errorRate) {
        status = rule.status ?? 500;
      }
    }
    return status;
  }
}
