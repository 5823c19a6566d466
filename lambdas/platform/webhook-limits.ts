// The largest webhook bodies loopgate reads. The handlers enforce them and the wiring passes them;
// they live here so that neither imports the other.

/**
 * PagerDuty guarantees webhooks up to 55 KB and sends larger ones up to 256 KB best-effort ("All
 * webhooks with a final size greater than 256 KB are always dropped"; developer-docs webhooks/
 * 02-Behavior.md). Refusing less would answer a real event with a 4xx: a permanent drop, and three
 * in a row disable the subscription.
 */
export const MAX_PAGERDUTY_BODY_BYTES = 256 * 1024;

export const MAX_JIRA_BODY_BYTES = 256 * 1024;
