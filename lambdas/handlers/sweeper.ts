// The sweeper function, on a rate(5 minutes) schedule. Its counts go out as
// CloudWatch metrics in the Embedded Metric Format (one JSON log line), so an
// alarm on FailedRequests pages a person without any extra API call. Every
// metric carries the stage as a dimension: stages sharing an account (dev and
// prod) each alarm on their own requests only.

import type { ScheduledEvent } from 'aws-lambda';
import { sweep, type SweepDeps, type SweepReport, type SweepSettings } from '../core/provision/sweep';
import { builtOnFirstCall } from '../platform/cold-start';
import type { Logger } from '../platform/logger';

export const METRIC_NAMESPACE = 'loopgate';
/** The dimension every metric has, valued with the stage's name (LOOPGATE_STAGE). */
export const STAGE_DIMENSION = 'Stage';

export function createSweeperHandler(
  deps: SweepDeps,
  settings: SweepSettings,
  logger: Logger,
  stage: string,
) {
  return async (_event?: ScheduledEvent): Promise<SweepReport> => {
    const report = await sweep(deps, settings);
    const metrics = {
      ExpiredRevoked: report.revoked.length,
      PendingCancelled: report.cancelled.length,
      ApprovedRedriven: report.redriven.length,
      TriageRedriven: report.retriaged.length,
      FailedRequests: report.failed.length,
      OrphanedAccessRemoved: report.reconciled.length,
      UncatalogedGrants: report.uncataloged.length,
      BreakGlassReviewsOverdue: report.reviewsEscalated.length,
      SweepErrors: report.errors.length,
    };
    logger.info('sweep done', {
      ...report,
      [STAGE_DIMENSION]: stage,
      _aws: {
        Timestamp: deps.clock.now().getTime(),
        CloudWatchMetrics: [
          {
            Namespace: METRIC_NAMESPACE,
            Dimensions: [[STAGE_DIMENSION]],
            Metrics: Object.keys(metrics).map((Name) => ({ Name, Unit: 'Count' })),
          },
        ],
      },
      ...metrics,
    });
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
  const { deps, settings, logger } = wireProvision(config, 'sweeper');
  return createSweeperHandler(deps, settings, logger, config.stage);
});
