// One loopgate Lambda function with the shared defaults: Node 22 on arm64,
// bundled locally by esbuild (no Docker) with source maps, JSON logs into its
// own log group with a retention, no X-Ray tracing (docs/setup.md section 11),
// and its own role that starts with nothing but writing its logs. What else it
// may do is granted by the stack.

import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import {
  ApplicationLogLevel,
  Architecture,
  LoggingFormat,
  Runtime,
  SystemLogLevel,
  Tracing,
} from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { dirname, join } from 'node:path';
import type { LogLevel } from '../lambdas/platform/env';
import {
  bundledFiles,
  ESBUILD,
  entryOf,
  FUNCTIONS,
  type FunctionName,
  functionNameOf,
  NODE_OPTIONS,
  PROJECT_ROOT,
} from './functions';

export interface LoopgateFunctionProps {
  name: FunctionName;
  stage: string;
  catalogFile: string;
  logLevel: LogLevel;
  /** The function's settings, as lambdas/platform/env.ts reads them. */
  environment: Record<string, string>;
  /** Kept for this function and its ceiling (the stage's `reservedConcurrency`); none when absent. */
  reservedConcurrency?: number;
}

// Lambda's own filter stops at INFO: the metric lines (lambdas/platform/metrics.ts) carry no
// "level", Lambda reads them as INFO, and a WARN or ERROR filter would drop them and silence
// every alarm on them. The logger filters its lines by LOG_LEVEL itself.
const APPLICATION_LOG_LEVEL: Record<LogLevel, ApplicationLogLevel> = {
  debug: ApplicationLogLevel.DEBUG,
  info: ApplicationLogLevel.INFO,
  warn: ApplicationLogLevel.INFO,
  error: ApplicationLogLevel.INFO,
};

export class LoopgateFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: LoopgateFunctionProps) {
    super(scope, id);
    const spec = FUNCTIONS[props.name];

    // Logs are evidence of what a function did: kept after the stack is gone.
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // An own role instead of AWSLambdaBasicExecutionRole: it may write to its log group only.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `loopgate ${props.stage}: the ${props.name} function`,
    });
    this.logGroup.grantWrite(this.role);

    this.function = new NodejsFunction(this, 'Function', {
      functionName: functionNameOf(props.stage, props.name),
      description: `loopgate ${props.name}`,
      entry: entryOf(props.name),
      handler: 'handler',
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: spec.memoryMb,
      timeout: Duration.seconds(spec.timeoutSeconds),
      ...(props.reservedConcurrency === undefined
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrency }),
      role: this.role,
      // Off: nothing in the code is instrumented, and Lambda's own segment says no more than its
      // REPORT line; the logs carry the request id and the upstream ids instead.
      tracing: Tracing.DISABLED,
      loggingFormat: LoggingFormat.JSON,
      // The logger filters by LOG_LEVEL; Lambda only drops debug lines outside a debug stage.
      applicationLogLevelV2: APPLICATION_LOG_LEVEL[props.logLevel],
      // INFO keeps Lambda's REPORT lines: duration, memory and cold-start init time.
      systemLogLevelV2: SystemLogLevel.INFO,
      logGroup: this.logGroup,
      environment: { NODE_OPTIONS, LOG_LEVEL: props.logLevel, ...props.environment },
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      bundling: {
        forceDockerBundling: false,
        format: ESBUILD.format === 'cjs' ? OutputFormat.CJS : OutputFormat.ESM,
        target: ESBUILD.target,
        minify: ESBUILD.minify,
        keepNames: ESBUILD.keepNames,
        sourceMap: ESBUILD.sourcemap,
        sourcesContent: ESBUILD.sourcesContent,
        externalModules: [...ESBUILD.external],
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          // The catalog (and for triage the prompts) ship inside the bundle, read from /var/task.
          afterBundling: (_inputDir: string, outputDir: string) =>
            bundledFiles(props.name, props.catalogFile).flatMap(([from, to]) => [
              `mkdir -p ${quote(dirname(join(outputDir, to)))}`,
              `cp -R ${quote(from)} ${quote(join(outputDir, to))}`,
            ]),
        },
      },
    });

    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'nodejs22.x on purpose: the code and its dependencies (openai 7, jira.js 6, the Okta SDK 8) are developed and tested on Node 22; nodejs24.x comes after testing on it.',
    });
  }
}

/** A path as one shell word (the commands run in a shell). */
function quote(path: string): string {
  return `'${path.replaceAll("'", `'\\''`)}'`;
}
