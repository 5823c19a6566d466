// What the stack watches, from the synthesized template (no bundling): the
// alarms on failed requests, on every dead-letter queue and on a missing
// sweeper heartbeat; the stage's dashboard; and, with the stage logging errors
// only, metric lines that still reach CloudWatch.

import type { CfnResource } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { Env, readCommonSettings } from '../../lambdas/platform/env';
import { LIFECYCLE_COUNTS, LIFECYCLE_LATENCIES } from '../../lambdas/platform/lifecycle-metrics';
import { Logger } from '../../lambdas/platform/logger';
import {
  METRIC_NAMESPACE,
  MetricsWriter,
  REVOKE_HEARTBEAT_METRIC,
  STAGE_DIMENSION,
  SWEEPER_HEARTBEAT_METRIC,
} from '../../lambdas/platform/metrics';
import { FUNCTION_NAMES } from '../../lib/functions';
import { buildApp, type LoopgateApp } from '../../lib/loopgate-app';
import { cdkContext, exampleStage } from './support';

type Json = Record<string, unknown>;

let built: LoopgateApp;
let template: Template;

beforeAll(() => {
  built = buildApp({ context: cdkContext({ ...exampleStage(), stage: 'prod' }) });
  template = Template.fromStack(built.appStack);
});

const idOf = (construct: { node: { defaultChild?: unknown } }) =>
  built.appStack.getLogicalId(construct.node.defaultChild as CfnResource);
const alarms = () =>
  Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties as Json);
const alarmNamed = (name: string) => alarms().find((a) => a.AlarmName === `loopgate-prod-${name}`);

describe('alarms', () => {
  it('on failed requests: any request of this stage in FAILED', () => {
    expect(alarmNamed('failed-requests')).toMatchObject({
      Namespace: METRIC_NAMESPACE,
      MetricName: 'FailedRequests',
      Dimensions: [{ Name: STAGE_DIMENSION, Value: 'prod' }],
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('on the depth of every dead-letter queue, and of dead-letter queues only', () => {
    const queues = built.appStack.queues;
    expect(Object.keys(queues).sort()).toEqual(['decide', 'provision', 'revoke', 'triage']);
    for (const [name, { dlq }] of Object.entries(queues)) {
      expect(alarmNamed(`${name}-dead-letter`)).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [idOf(dlq), 'QueueName'] } }],
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    }
    // Every queue with a redrive policy has its dead-letter queue watched.
    const watched = alarms()
      .filter((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible')
      .map((a) => ((a.Dimensions as Json[])[0]?.Value as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]);
    const redriven = Object.values(template.findResources('AWS::SQS::Queue')).flatMap((q) => {
      const target = ((q.Properties as Json).RedrivePolicy as Json | undefined)?.deadLetterTargetArn;
      return target ? [(target as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]] : [];
    });
    expect(watched.sort()).toEqual(redriven.sort());
  });

  it('on a missing sweeper heartbeat: fewer than one completed sweep in 15 minutes, and no data at all breaches', () => {
    expect(alarmNamed('sweeper-stopped')).toMatchObject({
      Namespace: METRIC_NAMESPACE,
      MetricName: SWEEPER_HEARTBEAT_METRIC,
      Dimensions: [{ Name: STAGE_DIMENSION, Value: 'prod' }],
      Statistic: 'Sum',
      Period: 900,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
  });
});

describe('the dashboard', () => {
  const body = () => {
    const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    const properties = dashboards[0]?.Properties as { DashboardName: string; DashboardBody: unknown };
    expect(properties.DashboardName).toBe('loopgate-prod');
    // The body is a Fn::Join of text and references: the text is what is checked here.
    const parts = (properties.DashboardBody as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    return parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join('');
  };

  it('graphs every lifecycle count and latency, and both heartbeats, of this stage', () => {
    const text = body();
    for (const name of [
      ...Object.keys(LIFECYCLE_COUNTS),
      ...Object.keys(LIFECYCLE_LATENCIES),
      SWEEPER_HEARTBEAT_METRIC,
      REVOKE_HEARTBEAT_METRIC,
    ]) {
      expect(text).toContain(`["${METRIC_NAMESPACE}","${name}","${STAGE_DIMENSION}","prod"`);
    }
    expect(text).toMatch(/"stat":"p90"/);
    expect(text).toContain('MetricName=\\"RequestsGranted\\"');
  });

  it("graphs every dead-letter queue's depth and every function's errors and throttles", () => {
    const text = body();
    for (const { dlq } of Object.values(built.appStack.queues)) {
      expect(text).toContain(`"AWS/SQS","ApproximateNumberOfMessagesVisible","QueueName",`);
      expect(text).toContain(idOf(dlq));
    }
    for (const name of FUNCTION_NAMES) {
      const fn = idOf(built.appStack.functions[name].function);
      for (const metric of ['Errors', 'Throttles']) {
        expect(text).toContain(`"AWS/Lambda","${metric}","FunctionName","{"Ref":"${fn}"}"`);
      }
    }
  });

  it("shows every alarm's state", () => {
    const text = body();
    expect(text).toContain('"type":"alarm"');
    for (const alarm of built.appStack.alarms) expect(text).toContain(idOf(alarm));
    expect(built.appStack.alarms).toHaveLength(alarms().length);
  });
});

describe("with the stage's logLevel at error", () => {
  it("the metric lines are still written and pass the functions' log filter, while info lines are dropped", () => {
    const quiet = buildApp({ context: cdkContext({ ...exampleStage(), logLevel: 'error' }) });
    const functions = Template.fromStack(quiet.appStack).findResources('AWS::Lambda::Function');
    for (const name of FUNCTION_NAMES) {
      const fn =
        functions[
          quiet.appStack.getLogicalId(
            quiet.appStack.functions[name].function.node.defaultChild as CfnResource,
          )
        ];
      const properties = fn?.Properties as { Environment: { Variables: Json }; LoggingConfig: Json };
      // As the function reads its level at cold start.
      const level = readCommonSettings(
        new Env({
          ...(properties.Environment.Variables as Record<string, string>),
          LOOPGATE_TABLE_NAME: 't',
        }),
      ).logLevel;
      expect(level).toBe('error');
      const written: string[] = [];
      new Logger({ service: name, level, write: (line) => written.push(line) }).info('sweep done');
      new MetricsWriter({ stage: 'dev', service: name, write: (line) => written.push(line) }).emit({
        SweeperHeartbeat: 1,
      });
      expect(written).toHaveLength(1);
      const line = JSON.parse(written[0] ?? '{}') as Json;
      expect(line.SweeperHeartbeat).toBe(1);
      // Lambda reads a line without "level" as INFO: the function's application filter must pass INFO.
      expect(line).not.toHaveProperty('level');
      expect(properties.LoggingConfig.ApplicationLogLevel).toBe('INFO');
    }
  });
});
