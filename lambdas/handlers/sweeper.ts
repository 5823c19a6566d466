// The sweeper function, on a rate(5 minutes) schedule. Its counts go out as
// CloudWatch metrics (lambdas/platform/metrics.ts), written whatever the log
// level, so an alarm on FailedRequests pages a person without any extra API
// call. Every metric carries the stage as a dimension: stages sharing an
// account (dev and prod) each alarm on their own requests only.

import type { ScheduledEvent } from 'aws-lambda';
import { sweep, type SweepDeps, type SweepReport, type SweepSettings } from '../core/provision/sweep';
import { builtOnFirstCall } from '../platform/cold-start';
import type { Logger } from '../platform/logger';
import { type MetricsWriter, SWEEPER_HEARTBEAT_METRIC } from '../platform/metrics';

// Where the stack's alarms and filters have always found them.
export { METRIC_NAMESPACE, STAGE_DIMENSION } from '../platform/metrics';

export function createSweeperHandler(
  deps: SweepDeps,
  settings: SweepSettings,
  logger: Logger,
  metrics: MetricsWriter,
) {
  return async (_event?: ScheduledEvent): Promise<SweepReport> => {
    const report = await sweep(deps, settings);
    const counts = {
      ExpiredRevoked: report.revoked.length,
      PendingCancelled: report.cancelled.length,
      ApprovedRedriven: report.redriven.length,
      TriageRedriven: report.retriaged.length,
      FailedRequests: report.failed.length,
      OrphanedAccessRemoved: report.reconciled.length,
      UncatalogedGrants: report.uncataloged.length,
      BreakGlassReviewsOverdue: report.reviewsEscalated.length,
      SweepErrors: report.errors.length,
      [SWEEPER_HEARTBEAT_METRIC]: 1,
    };
    // The metric line first and apart from the log: a log level of warn or error drops 'sweep done'.
    metrics.emit(counts);
    logger.info('sweep done', { ...report, ...counts });
    if (report.failed.length) logger.error('requests in FAILED need a person', { requestIds: report.failed });
    if (report.uncataloged.length) {
      logger.warn('live grants of entitlements no longer in the catalog', {
        requestIds: report.uncataloged,
        revoked: settings.revokeUncataloged === 'at-once' ? 'at once' : 'at their expiry',
      });
    }
    return report;
  };
}

/** The Lambda entry point: configuration is read and clients are built on the first invocation. */
export const handler = builtOnFirstCall<ScheduledEvent, SweepReport>(async () => {
  const { readProvisionConfig } = await import('../platform/env');
  const { wireProvision } = await import('../wiring/provision');
  const config = readProvisionConfig();
  const { deps, settings, logger, metrics } = wireProvision(config, 'sweeper');
  return createSweeperHandler(deps, settings, logger, metrics);
});
