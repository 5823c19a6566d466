// PagerDuty's REST rate limits on the sandbox clock: each API token gets 960
// requests a minute, and POST /incidents a further 300 a minute. Fixed
// one-minute windows; the headers describe the limit closest to being reached,
// as PagerDuty's do.

import type { Clock } from '../../lambdas/core/ports';
import type { RateLimitHeaders } from './errors';

export interface RateLimits {
  /** Requests a minute per token (PagerDuty: 960). */
  perMinute: number;
  /** POST /incidents a minute per token (PagerDuty: 300). */
  createIncidentPerMinute: number;
}

export const PAGERDUTY_RATE_LIMITS: RateLimits = { perMinute: 960, createIncidentPerMinute: 300 };

const WINDOW_MS = 60_000;

interface Window {
  startedAt: number;
  count: number;
}

export interface RateLimitDecision extends RateLimitHeaders {
  allowed: boolean;
}

export class RateLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly clock: Clock,
    readonly limits: RateLimits = PAGERDUTY_RATE_LIMITS,
  ) {}

  /** Counts one request by `token` and says whether it is within the limits. */
  take(token: string, createsIncident: boolean): RateLimitDecision {
    const now = this.clock.now().getTime();
    const buckets: { key: string; limit: number }[] = [{ key: `all:${token}`, limit: this.limits.perMinute }];
    if (createsIncident) {
      buckets.push({ key: `create:${token}`, limit: this.limits.createIncidentPerMinute });
    }
    const states = buckets.map((b) => ({ ...b, window: this.window(b.key, now) }));
    const allowed = states.every((s) => s.window.count < s.limit);
    if (allowed) for (const s of states) s.window.count += 1;
    // Report the bucket with the least room left, as PagerDuty does for operation-specific limits.
    const tightest = states.reduce((a, b) => (b.limit - b.window.count < a.limit - a.window.count ? b : a));
    return {
      allowed,
      limit: tightest.limit,
      remaining: Math.max(0, tightest.limit - tightest.window.count),
      resetSeconds: Math.max(1, Math.ceil((tightest.window.startedAt + WINDOW_MS - now) / 1000)),
    };
  }

  /** The headers of an injected 429: nothing left in the current window. */
  exhausted(): RateLimitHeaders {
    const now = this.clock.now().getTime();
    const elapsed = now % WINDOW_MS;
    return {
      limit: this.limits.perMinute,
      remaining: 0,
      resetSeconds: Math.max(1, Math.ceil((WINDOW_MS - elapsed) / 1000)),
    };
  }

  private window(key: string, now: number): Window {
    const current = this.windows.get(key);
    if (current && now - current.startedAt < WINDOW_MS) return current;
    const fresh = { startedAt: now, count: 0 };
    this.windows.set(key, fresh);
    return fresh;
  }
}
