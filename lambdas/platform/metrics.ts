// CloudWatch metrics in the Embedded Metric Format: one JSON line on stdout
// per flush, which CloudWatch Logs turns into metrics without an API call.
// Kept apart from the logger on purpose: a metric line is written whatever the
// stage's log level, so an alarm on it never goes quiet because logging did.
// The line has no "level" key (Lambda reads such a line as INFO): the
// functions' own log filter (lib/loopgate-function.ts) must let INFO through.

import { redact } from './logger';

export const METRIC_NAMESPACE = 'loopgate';
/** The dimension every metric has, valued with the stage's name (LOOPGATE_STAGE). */
export const STAGE_DIMENSION = 'Stage';

/**
 * One per sweep that ran to its end: the sweeper-stopped alarm breaches when none arrives (no data
 * breaches), whether the rule stopped, the function cannot start, every sweep throws, or metric
 * lines no longer reach CloudWatch.
 */
export const SWEEPER_HEARTBEAT_METRIC = 'SweeperHeartbeat';
/**
 * One per revoke invocation that ran to its end (whatever each revoke's outcome), for the
 * dashboard. Revoke runs only when there is work, so no alarm waits for it: revoke-queue-stuck and
 * the errors alarm cover a revoke that does not run.
 */
export const REVOKE_HEARTBEAT_METRIC = 'RevokeHeartbeat';

export type MetricUnit = 'Count' | 'Milliseconds' | 'Seconds';

export interface MetricsOptions {
  stage: string;
  service: string;
  /** Where lines go; stdout unless a test or the sandbox captures them. */
  write?: (line: string) => void;
  now?: () => Date;
}

export class MetricsWriter {
  private readonly write: (line: string) => void;
  private readonly now: () => Date;

  constructor(private readonly options: MetricsOptions) {
    this.write = options.write ?? ((line) => process.stdout.write(`${line}\n`));
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Writes `values` as one EMF line with the Stage dimension, all in `unit`. `properties` ride
   * along as searchable fields (not metrics), redacted like log attributes. `dimensions` add a
   * second series per metric (Stage plus them) beside the stage's total: only values from a
   * bounded set (catalog ids), never free text, as each distinct value is a metric billed apart.
   */
  emit(
    values: Record<string, number>,
    options: {
      unit?: MetricUnit;
      properties?: Record<string, unknown>;
      dimensions?: Record<string, string>;
    } = {},
  ): void {
    const unit = options.unit ?? 'Count';
    const extra = options.dimensions ?? {};
    const line = {
      ...(options.properties ? (redact(options.properties) as Record<string, unknown>) : {}),
      ...extra,
      service: this.options.service,
      [STAGE_DIMENSION]: this.options.stage,
      _aws: {
        Timestamp: this.now().getTime(),
        CloudWatchMetrics: [
          {
            Namespace: METRIC_NAMESPACE,
            Dimensions: Object.keys(extra).length
              ? [[STAGE_DIMENSION], [STAGE_DIMENSION, ...Object.keys(extra)]]
              : [[STAGE_DIMENSION]],
            Metrics: Object.keys(values).map((Name) => ({ Name, Unit: unit })),
          },
        ],
      },
      ...values,
    };
    this.write(JSON.stringify(line));
  }
}
