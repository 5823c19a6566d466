// PagerDuty v3 webhook delivery for one subscription, as PagerDuty's "Webhook
// Behavior" page (PagerDuty/developer-docs docs/webhooks/02-Behavior.md) says:
// signed (`X-PagerDuty-Signature: v1=<hex>[,v1=<hex>]`, one per secret while a
// rotation is in progress), one event per POST. A 2xx within 5 s is delivered.
// A timeout, connection failure, 429 or 5xx is retried "periodically ... for up
// to 48 hours", and "subsequent webhooks for this ... subscription and resource
// ID will be queued": each incident has its own lane, in order, and one failing
// incident never holds back another. Any other 4xx is dropped at once. "After 3
// consecutive webhooks are dropped" (4xx, or retries exhausted) the subscription
// is disabled for 24 h and every queued webhook is dropped; while disabled, new
// ones are not enqueued. A webhook over 256 KB is always dropped.

import { randomUUID } from 'node:crypto';
import type { SandboxClock } from '../clock';
import { hmacHex, postWebhook } from '../http/webhook';
import type { Reference } from './directory';

export interface WebhookSubscriptionOptions {
  url: string;
  /** Signing secrets; two while a rotation is in progress (each signs every delivery). */
  secrets: string[];
  /** Event types the subscription receives. */
  events?: readonly string[];
  /** The `X-Webhook-Subscription` id; derived from the URL when absent. */
  id?: string;
  /** How long a receiver has to answer (PagerDuty: 5 s). Real time: it bounds a real socket. */
  timeoutMs?: number;
  /** Sandbox-clock pause before retry n (1, 2, …); PagerDuty documents no schedule, only "periodically". */
  retryDelayMs?: (retry: number) => number;
  /** How long after its first attempt a failing webhook is still retried (PagerDuty: 48 hours). */
  retryForMs?: number;
}

export const DEFAULT_WEBHOOK_EVENTS = [
  'incident.acknowledged',
  'incident.annotated',
  'incident.resolved',
] as const;

const HOUR = 3_600_000;
/** "Webhooks will be periodically retried for up to 48 hours." */
export const RETRY_FOR_MS = 48 * HOUR;
/** The stand-in's own backoff (PagerDuty publishes none): 80 s, doubling, at most an hour apart. */
export function defaultRetryDelayMs(retry: number): number {
  return Math.min(80_000 * 2 ** (retry - 1), HOUR);
}
/** "PagerDuty expects a 2xx response within 5 seconds for Generic Webhooks." */
export const DELIVERY_TIMEOUT_MS = 5_000;
export const DROPS_BEFORE_DISABLE = 3;
export const DISABLE_FOR_MS = 24 * HOUR;
export const USER_AGENT = 'PagerDuty-Webhook/V3.0';
/** "All webhooks with a final size greater than 256 KB are always dropped" (KB as in 55 KB = 56320 bytes). */
export const MAX_WEBHOOK_BYTES = 256 * 1024;

export interface WebhookEvent {
  id: string;
  event_type: string;
  resource_type: 'incident';
  occurred_at: string;
  agent: Reference | null;
  client: null;
  data: Record<string, unknown>;
}

export type DeliveryOutcome =
  /** The receiver answered 2xx. */
  | 'delivered'
  /** Timeout, connection failure, 429 or 5xx; another attempt is scheduled. */
  | 'retrying'
  /** A 4xx other than 429: dropped without retry. */
  | 'dropped'
  /** Still failing 48 hours after the first attempt: dropped. */
  | 'exhausted'
  /** Not sent: the subscription was disabled when the event was due, or the event is over 256 KB. */
  | 'skipped';

export interface DeliveryRecord {
  webhookId: string;
  eventId: string;
  eventType: string;
  incidentId: string | undefined;
  /** 1 for the first attempt; 0 when the event was never sent. */
  attempt: number;
  at: string;
  status?: number;
  error?: string;
  outcome: DeliveryOutcome;
}

export interface SubscriptionState {
  id: string;
  url: string;
  events: string[];
  enabled: boolean;
  consecutiveDrops: number;
  disabledUntil: string | null;
  /** Events waiting for delivery, in every incident's lane (a lane's first may be waiting for a retry). */
  queued: number;
  /** The earliest moment a waiting retry is due. */
  nextAttemptAt: string | null;
  /** Each incident with webhooks waiting: how many, and when its first is tried again. */
  lanes: { incidentId: string | null; queued: number; nextAttemptAt: string }[];
}

interface Pending {
  webhookId: string;
  event: WebhookEvent;
  incidentId: string | undefined;
  body: string;
  attempts: number;
  /** When the first attempt was made; retries stop 48 h later. */
  firstAttemptAt?: number;
  dueAt: number;
}

/** One incident's webhooks, delivered in order; a failing head holds back only this lane. */
interface Lane {
  key: string;
  incidentId: string | undefined;
  queue: Pending[];
  running: Promise<void> | undefined;
  rerun: boolean;
}

export class WebhookSubscription {
  readonly id: string;
  readonly events: readonly string[];
  private readonly lanes = new Map<string, Lane>();
  private readonly log: DeliveryRecord[] = [];
  private consecutiveDrops = 0;
  private disabledUntil: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly options: WebhookSubscriptionOptions,
    private readonly clock: SandboxClock,
    defaultId: string,
  ) {
    if (options.secrets.length === 0) throw new Error('a webhook subscription needs at least one secret');
    this.id = options.id ?? defaultId;
    this.events = options.events ?? DEFAULT_WEBHOOK_EVENTS;
    this.unsubscribe = clock.onAdvance(() => this.kickAll());
  }

  get url(): string {
    return this.options.url;
  }

  /** Queues an event if the subscription wants its type; returns the event's webhook id, if queued. */
  publish(event: WebhookEvent, incidentId: string | undefined): string | undefined {
    if (!this.events.includes(event.event_type)) return undefined;
    const webhookId = randomUUID();
    const pending: Pending = {
      webhookId,
      event,
      incidentId,
      body: JSON.stringify({ event }),
      attempts: 0,
      dueAt: this.clock.now().getTime(),
    };
    this.reenableIfDue();
    if (this.disabledUntil !== undefined) {
      this.record(pending, { outcome: 'skipped', error: 'subscription disabled' });
      return webhookId;
    }
    if (Buffer.byteLength(pending.body) > MAX_WEBHOOK_BYTES) {
      this.record(pending, { outcome: 'skipped', error: `larger than ${MAX_WEBHOOK_BYTES} bytes` });
      return webhookId;
    }
    // An event about no incident has no resource to queue behind: a lane of its own.
    const key = incidentId === undefined ? `event:${event.id}` : `incident:${incidentId}`;
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { key, incidentId, queue: [], running: undefined, rerun: false };
      this.lanes.set(key, lane);
    }
    lane.queue.push(pending);
    this.kick(lane);
    return webhookId;
  }

  /** Resolves once nothing is in flight and nothing queued is due (a retry may wait for the clock). */
  async settled(): Promise<void> {
    for (;;) {
      const running = [...this.lanes.values()].map((l) => l.running).filter((r) => r !== undefined);
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  /** Re-enables a disabled subscription, as the PagerDuty web app allows. */
  enable(): void {
    this.disabledUntil = undefined;
    this.consecutiveDrops = 0;
  }

  state(): SubscriptionState {
    this.reenableIfDue();
    const lanes = [...this.lanes.values()]
      .filter((l) => l.queue.length > 0)
      .map((l) => ({
        incidentId: l.incidentId ?? null,
        queued: l.queue.length,
        nextAttemptAt: new Date((l.queue[0] as Pending).dueAt).toISOString(),
      }));
    const next = lanes.map((l) => l.nextAttemptAt).sort()[0];
    return {
      id: this.id,
      url: this.options.url,
      events: [...this.events],
      enabled: this.disabledUntil === undefined,
      consecutiveDrops: this.consecutiveDrops,
      disabledUntil: this.disabledUntil === undefined ? null : new Date(this.disabledUntil).toISOString(),
      queued: lanes.reduce((n, l) => n + l.queued, 0),
      nextAttemptAt: next ?? null,
      lanes,
    };
  }

  deliveries(): DeliveryRecord[] {
    return this.log.map((r) => ({ ...r }));
  }

  close(): void {
    this.unsubscribe();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private kickAll(): void {
    for (const lane of this.lanes.values()) this.kick(lane);
  }

  private kick(lane: Lane): void {
    if (lane.running) {
      lane.rerun = true;
      return;
    }
    lane.running = this.drain(lane).finally(() => {
      lane.running = undefined;
      if (lane.rerun) {
        lane.rerun = false;
        this.kick(lane);
      } else if (lane.queue.length === 0) {
        this.lanes.delete(lane.key);
      }
      this.wake();
    });
  }

  private async drain(lane: Lane): Promise<void> {
    for (;;) {
      this.reenableIfDue();
      const head = lane.queue[0];
      if (!head || head.dueAt > this.clock.now().getTime()) return;
      await this.attempt(lane, head);
    }
  }

  private async attempt(lane: Lane, pending: Pending): Promise<void> {
    pending.attempts += 1;
    const startedAt = this.clock.now().getTime();
    pending.firstAttemptAt ??= startedAt;
    const result = await postWebhook(
      this.options.url,
      pending.body,
      this.headers(pending),
      this.options.timeoutMs ?? DELIVERY_TIMEOUT_MS,
      this.clock.now(),
    );
    // Dropped meanwhile: the subscription was disabled by another lane while this one was in flight.
    if (lane.queue[0] !== pending) return;
    const status = result.status;
    if (status !== undefined && status >= 200 && status < 300) {
      lane.queue.shift();
      this.consecutiveDrops = 0;
      this.record(pending, { outcome: 'delivered', status, at: result.at });
      return;
    }
    const retryable = status === undefined || status === 429 || status >= 500;
    const giveUpAt = pending.firstAttemptAt + (this.options.retryForMs ?? RETRY_FOR_MS);
    const now = this.clock.now().getTime();
    if (retryable && now < giveUpAt) {
      const delay = (this.options.retryDelayMs ?? defaultRetryDelayMs)(pending.attempts);
      // The last retry falls exactly at the 48-hour mark, not after it.
      pending.dueAt = Math.min(now + delay, giveUpAt);
      this.record(pending, { outcome: 'retrying', status, error: result.error, at: result.at });
      return;
    }
    lane.queue.shift();
    this.record(pending, {
      outcome: retryable ? 'exhausted' : 'dropped',
      status,
      error: result.error,
      at: result.at,
    });
    this.consecutiveDrops += 1;
    if (this.consecutiveDrops >= DROPS_BEFORE_DISABLE) this.disable();
  }

  /** "Any other webhooks in its queue will be dropped": every lane's. */
  private disable(): void {
    this.disabledUntil = this.clock.now().getTime() + DISABLE_FOR_MS;
    for (const lane of this.lanes.values()) {
      for (const dropped of lane.queue.splice(0)) {
        this.record(dropped, { outcome: 'skipped', error: 'subscription disabled' });
      }
    }
  }

  private reenableIfDue(): void {
    if (this.disabledUntil !== undefined && this.clock.now().getTime() >= this.disabledUntil) this.enable();
  }

  private headers(pending: Pending): Record<string, string> {
    return {
      // Lower case so it replaces, not duplicates, the helper's own content-type.
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'x-webhook-id': pending.webhookId,
      'x-webhook-subscription': this.id,
      'x-pagerduty-signature': this.options.secrets.map((s) => `v1=${hmacHex(s, pending.body)}`).join(','),
    };
  }

  // A running sandbox clock moves with real time, so a real timer catches a due
  // retry; a frozen one only moves through advance(), which kicks every lane.
  private wake(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const due = [...this.lanes.values()]
      .filter((l) => !l.running && l.queue[0])
      .map((l) => (l.queue[0] as Pending).dueAt);
    if (due.length === 0) return;
    const ms = Math.max(0, Math.min(...due) - this.clock.now().getTime());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.kickAll();
    }, ms + 5);
    this.timer.unref();
  }

  private record(
    pending: Pending,
    fields: { outcome: DeliveryOutcome; status?: number; error?: string; at?: string },
  ): void {
    this.log.push({
      webhookId: pending.webhookId,
      eventId: pending.event.id,
      eventType: pending.event.event_type,
      incidentId: pending.incidentId,
      attempt: fields.outcome === 'skipped' ? 0 : pending.attempts,
      at: fields.at ?? this.clock.now().toISOString(),
      ...(fields.status !== undefined ? { status: fields.status } : {}),
      ...(fields.error !== undefined ? { error: fields.error } : {}),
      outcome: fields.outcome,
    });
  }
}
