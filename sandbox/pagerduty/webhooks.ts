// PagerDuty v3 webhook delivery for one subscription: signed
// (`X-PagerDuty-Signature: v1=<hex>[,v1=<hex>]`, one per secret while a
// rotation is in progress), one event per POST, in order. A 2xx is delivered;
// a timeout, connection failure, 429 or 5xx is retried with exponential backoff
// on the sandbox clock while later events wait behind it; any other 4xx is
// dropped at once. Three consecutive drops disable the subscription for 24 h:
// what is queued is dropped and new events are not enqueued until it is enabled
// again (PagerDuty's documented behaviour).

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
  /** Sandbox-clock delays before each retry (PagerDuty: 4 retries, about 20 minutes in all). */
  retryDelaysMs?: readonly number[];
}

export const DEFAULT_WEBHOOK_EVENTS = [
  'incident.acknowledged',
  'incident.annotated',
  'incident.resolved',
] as const;

/** Exponential backoff adding up to 20 minutes: 80 s, 160 s, 320 s, 640 s. */
export const DEFAULT_RETRY_DELAYS_MS = [80_000, 160_000, 320_000, 640_000] as const;
export const DELIVERY_TIMEOUT_MS = 5_000;
export const DROPS_BEFORE_DISABLE = 3;
export const DISABLE_FOR_MS = 24 * 3_600_000;
export const USER_AGENT = 'PagerDuty-Webhook/V3.0';
/** PagerDuty holds at most this many webhooks behind a failing one. */
export const MAX_QUEUED = 4000;

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
  /** Every retry failed: dropped. */
  | 'exhausted'
  /** Not sent: the subscription was disabled when the event was due, or its queue was full. */
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
  /** Events waiting for delivery (the first may be waiting for a retry). */
  queued: number;
  nextAttemptAt: string | null;
}

interface Pending {
  webhookId: string;
  event: WebhookEvent;
  incidentId: string | undefined;
  body: string;
  attempts: number;
  dueAt: number;
}

export class WebhookSubscription {
  readonly id: string;
  readonly events: readonly string[];
  private readonly queue: Pending[] = [];
  private readonly log: DeliveryRecord[] = [];
  private consecutiveDrops = 0;
  private disabledUntil: number | undefined;
  private running: Promise<void> | undefined;
  private rerun = false;
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
    this.unsubscribe = clock.onAdvance(() => this.kick());
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
    if (this.queue.length >= MAX_QUEUED) {
      this.record(pending, { outcome: 'skipped', error: 'queue full' });
      return webhookId;
    }
    this.queue.push(pending);
    this.kick();
    return webhookId;
  }

  /** Resolves once nothing is in flight and nothing queued is due (a retry may wait for the clock). */
  async settled(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Re-enables a disabled subscription, as the PagerDuty web app allows. */
  enable(): void {
    this.disabledUntil = undefined;
    this.consecutiveDrops = 0;
  }

  state(): SubscriptionState {
    this.reenableIfDue();
    const head = this.queue[0];
    return {
      id: this.id,
      url: this.options.url,
      events: [...this.events],
      enabled: this.disabledUntil === undefined,
      consecutiveDrops: this.consecutiveDrops,
      disabledUntil: this.disabledUntil === undefined ? null : new Date(this.disabledUntil).toISOString(),
      queued: this.queue.length,
      nextAttemptAt: head ? new Date(head.dueAt).toISOString() : null,
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

  private kick(): void {
    if (this.running) {
      this.rerun = true;
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.rerun) {
        this.rerun = false;
        this.kick();
      }
    });
  }

  private async drain(): Promise<void> {
    for (;;) {
      this.reenableIfDue();
      const head = this.queue[0];
      if (!head) return;
      const now = this.clock.now().getTime();
      if (head.dueAt > now) {
        this.wakeAt(head.dueAt - now);
        return;
      }
      await this.attempt(head);
    }
  }

  private async attempt(pending: Pending): Promise<void> {
    pending.attempts += 1;
    const result = await postWebhook(
      this.options.url,
      pending.body,
      this.headers(pending),
      this.options.timeoutMs ?? DELIVERY_TIMEOUT_MS,
      this.clock.now(),
    );
    const status = result.status;
    const retryable = status === undefined || status === 429 || status >= 500;
    if (status !== undefined && status >= 200 && status < 300) {
      this.queue.shift();
      this.consecutiveDrops = 0;
      this.record(pending, { outcome: 'delivered', status, at: result.at });
      return;
    }
    const delays = this.options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    const delay = delays[pending.attempts - 1];
    if (retryable && delay !== undefined) {
      pending.dueAt = this.clock.now().getTime() + delay;
      this.record(pending, { outcome: 'retrying', status, error: result.error, at: result.at });
      return;
    }
    this.queue.shift();
    this.record(pending, {
      outcome: retryable ? 'exhausted' : 'dropped',
      status,
      error: result.error,
      at: result.at,
    });
    this.consecutiveDrops += 1;
    if (this.consecutiveDrops >= DROPS_BEFORE_DISABLE) this.disable();
  }

  private disable(): void {
    this.disabledUntil = this.clock.now().getTime() + DISABLE_FOR_MS;
    for (const dropped of this.queue.splice(0)) {
      this.record(dropped, { outcome: 'skipped', error: 'subscription disabled' });
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
  // retry; a frozen one only moves through advance(), which kicks the queue.
  private wakeAt(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.queue[0] && this.queue[0].dueAt <= this.clock.now().getTime()) this.kick();
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
