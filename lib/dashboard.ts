// The stage's CloudWatch dashboard, `loopgate-<stage>`: what happens to
// requests (the lifecycle counts and the three latencies, and grants per
// entitlement), the heartbeats, the dead-letter queues, the functions' errors
// and throttles, and every alarm's state. All of it is this stage's only.

import { Duration } from 'aws-cdk-lib';
import {
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  type IAlarm,
  MathExpression,
  Metric,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import {
  ENTITLEMENT_DIMENSION,
  LIFECYCLE_COUNTS,
  LIFECYCLE_LATENCIES,
} from '../lambdas/platform/lifecycle-metrics';
import { METRIC_NAMESPACE, STAGE_DIMENSION } from '../lambdas/platform/metrics';

export interface DashboardProps {
  stage: string;
  functions: Record<string, LambdaFunction>;
  deadLetterQueues: Record<string, Queue>;
  alarms: IAlarm[];
  /** The heartbeat metrics' names: the sweeper's and revoke's. */
  heartbeats: string[];
}

export const dashboardNameOf = (stage: string) => `loopgate-${stage}`;

export function createDashboard(scope: Construct, props: DashboardProps): Dashboard {
  const { stage } = props;
  const period = Duration.hours(1);
  const loopgate = (metricName: string, statistic: string, label?: string) =>
    new Metric({
      namespace: METRIC_NAMESPACE,
      metricName,
      dimensionsMap: { [STAGE_DIMENSION]: stage },
      statistic,
      period,
      ...(label ? { label } : {}),
    });
  const dashboard = new Dashboard(scope, 'Dashboard', {
    dashboardName: dashboardNameOf(stage),
    defaultInterval: Duration.days(7),
  });
  dashboard.addWidgets(
    new TextWidget({
      markdown: `# loopgate ${stage}\nRequests by lifecycle step (hourly), time from filing to page, decision and grant, heartbeats, dead-letter queues and function errors. Alarms: docs/setup.md section 11; runbooks: docs/runbooks.md.`,
      width: 24,
      height: 2,
    }),
  );
  dashboard.addWidgets(
    new GraphWidget({
      title: 'Requests by lifecycle step (per hour)',
      left: Object.keys(LIFECYCLE_COUNTS).map((name) => loopgate(name, 'Sum')),
      width: 12,
    }),
    new GraphWidget({
      title: 'Time from filing (median and p90)',
      left: Object.keys(LIFECYCLE_LATENCIES).flatMap((name) => [
        loopgate(name, 'p50', `${name} p50`),
        loopgate(name, 'p90', `${name} p90`),
      ]),
      width: 12,
    }),
  );
  dashboard.addWidgets(
    new GraphWidget({
      title: 'Grants per entitlement (per hour)',
      // Entitlement ids come from the catalog only, so the search stays bounded.
      left: [
        new MathExpression({
          expression: `SEARCH('{${METRIC_NAMESPACE},${STAGE_DIMENSION},${ENTITLEMENT_DIMENSION}} ${STAGE_DIMENSION}="${stage}" MetricName="RequestsGranted"', 'Sum', 3600)`,
          label: '',
          period,
        }),
      ],
      width: 12,
    }),
    new GraphWidget({
      title: 'Heartbeats (sweeps and revoke invocations per hour)',
      left: props.heartbeats.map((name) => loopgate(name, 'Sum')),
      width: 12,
    }),
  );
  const fiveMinutes = Duration.minutes(5);
  dashboard.addWidgets(
    new GraphWidget({
      title: 'Dead-letter queues (messages waiting)',
      left: Object.entries(props.deadLetterQueues).map(([name, dlq]) =>
        dlq.metricApproximateNumberOfMessagesVisible({
          period: fiveMinutes,
          statistic: 'Maximum',
          label: name,
        }),
      ),
      width: 8,
    }),
    new GraphWidget({
      title: 'Function errors',
      left: Object.entries(props.functions).map(([name, fn]) =>
        fn.metricErrors({ period: fiveMinutes, statistic: 'Sum', label: name }),
      ),
      width: 8,
    }),
    new GraphWidget({
      title: 'Function throttles',
      left: Object.entries(props.functions).map(([name, fn]) =>
        fn.metricThrottles({ period: fiveMinutes, statistic: 'Sum', label: name }),
      ),
      width: 8,
    }),
  );
  dashboard.addWidgets(new AlarmStatusWidget({ title: 'Alarms', alarms: props.alarms, width: 24 }));
  return dashboard;
}
