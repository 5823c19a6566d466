// The app stack as `npx cdk synth` builds it from cdk.json: the functions and
// their settings, the webhooks' URLs, the queues, the expiry schedules, the
// sweeper, the alarms, and what each function's role may do. The app is built
// (and its six functions bundled) once for the file.

import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CfnResource, Stack } from 'aws-cdk-lib';
import { Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { INDEXES } from '../../lambdas/connectors/dynamodb/schema';
import { parse, stringify } from 'yaml';
import { MAX_DECIDE_ATTEMPTS } from '../../lambdas/handlers/decide';
import { MAX_ATTEMPTS } from '../../lambdas/handlers/provision';
import { METRIC_NAMESPACE, STAGE_DIMENSION } from '../../lambdas/handlers/sweeper';
import {
  Env,
  readDecideConfig,
  readPagerDutyWebhookConfig,
  readIntakeConfig,
  readProvisionConfig,
  readTriageConfig,
} from '../../lambdas/platform/env';
import { BUNDLED, FUNCTION_NAMES, FUNCTIONS, type FunctionName, PROJECT_ROOT } from '../../lib/functions';
import { INTEGRATION_SECRETS, type SecretId } from '../../lib/integration-secrets';
import { revokeQueueConcurrency, SIGNATURE_FAILURE_METRIC } from '../../lib/app-stack';
import { buildApp, type LoopgateApp } from '../../lib/loopgate-app';
import { DEFAULT_RESERVED_CONCURRENCY } from '../../lib/stage-config';
import { cdkContext, exampleStage } from './support';

type Json = Record<string, unknown>;
interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: unknown;
  Condition?: Json;
  Principal?: unknown;
}

const execFileAsync = promisify(execFile);

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';

let built: LoopgateApp;
let template: Template;
let resources: Record<string, Json & { Type: string; Properties: Json }>;

beforeAll(() => {
  built = buildApp({ context: cdkContext(exampleStage(), { bundle: true }) });
  template = Template.fromStack(built.appStack);
  resources = template.toJSON().Resources;
}, 240_000);

const logicalId = (stack: Stack, construct: IConstruct) =>
  stack.getLogicalId(construct.node.defaultChild as CfnResource);
const functionId = (name: FunctionName) => logicalId(built.appStack, built.appStack.functions[name].function);
const roleId = (name: FunctionName) => logicalId(built.appStack, built.appStack.functions[name].role);
/** The export through which the app stack refers to a secret's ARN: its Ref in the stateful stack. */
const secretExport = (secret: SecretId) =>
  `ExportsOutputRef${logicalId(built.stateful, built.stateful.secrets[secret])}`;
const exportOf = (rendered: string) =>
  /^<import loopgate-dev-stateful:(ExportsOutputRef\w+?)[0-9A-F]{8}>$/.exec(rendered)?.[1] ?? rendered;

/** An intrinsic as text, with the pseudo parameters filled in; other references as <…>. */
function render(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Json;
  if ('Fn::Join' in v) {
    const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(render).join(separator);
  }
  if ('Ref' in v) {
    const pseudo: Record<string, string> = {
      'AWS::Partition': 'aws',
      'AWS::AccountId': ACCOUNT,
      'AWS::Region': REGION,
    };
    return pseudo[v.Ref as string] ?? `<${String(v.Ref)}>`;
  }
  if ('Fn::GetAtt' in v) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
  if ('Fn::ImportValue' in v) return `<import ${String(v['Fn::ImportValue'])}>`;
  return JSON.stringify(value);
}

const list = <T>(value: T | T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Every statement of every identity policy attached to the role. */
function statementsOf(role: string): Statement[] {
  return Object.values(resources)
    .filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' &&
        list(r.Properties.Roles as unknown[]).some((ref) => (ref as Json).Ref === role),
    )
    .flatMap((r) => list((r.Properties.PolicyDocument as Json).Statement as Statement[]));
}

const actionsOf = (statements: Statement[]) => statements.flatMap((s) => list(s.Action));
const withAction = (statements: Statement[], action: string) =>
  statements.filter((s) => list(s.Action).includes(action));

describe('functions', () => {
  it.each(FUNCTION_NAMES)('%s: Node 22 on arm64, no X-Ray, JSON logs, a retention, source maps', (name) => {
    const fn = resources[functionId(name)] as { Properties: Json };
    expect(fn.Properties).toMatchObject({
      FunctionName: `loopgate-dev-${name}`,
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: FUNCTIONS[name].memoryMb,
      Timeout: FUNCTIONS[name].timeoutSeconds,
      LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'INFO', SystemLogLevel: 'INFO' },
      Environment: { Variables: { NODE_OPTIONS: '--enable-source-maps', LOG_LEVEL: 'info' } },
    });
    // Tracing is off (docs/setup.md section 11): no active tracing, and so no xray:* on "*".
    expect(fn.Properties.TracingConfig).toBeUndefined();
    const logGroup = (fn.Properties.LoggingConfig as Json).LogGroup as { Ref: string };
    expect(resources[logGroup.Ref]?.Properties.RetentionInDays).toBe(90);
  });

  it("keeps the metric lines at logLevel error: Lambda's own filter stays at INFO, the logger filters by LOG_LEVEL", () => {
    // Prepare: a stage that logs errors only.
    const quiet = buildApp({ context: cdkContext({ ...exampleStage(), logLevel: 'error' }) });
    const functions = Template.fromStack(quiet.appStack).findResources('AWS::Lambda::Function');
    for (const name of FUNCTION_NAMES) {
      const fn = functions[logicalId(quiet.appStack, quiet.appStack.functions[name].function)];
      // The metric lines carry no level and Lambda reads them as INFO: an ERROR filter would drop them.
      expect(fn?.Properties).toMatchObject({
        LoggingConfig: { LogFormat: 'JSON', ApplicationLogLevel: 'INFO' },
        Environment: { Variables: { LOG_LEVEL: 'error' } },
      });
    }
  });

  it('bundles the catalog into every function and the prompts and the policy into triage only', () => {
    const assembly = built.app.synth();
    for (const name of FUNCTION_NAMES) {
      const key = ((resources[functionId(name)]?.Properties.Code as Json).S3Key as string).replace(
        /\.zip$/,
        '',
      );
      const dir = join(assembly.directory, `asset.${key}`);
      expect(readFileSync(join(dir, BUNDLED.catalog), 'utf8')).toBe(
        readFileSync(join(PROJECT_ROOT, 'config/catalog.yaml'), 'utf8'),
      );
      expect(existsSync(join(dir, 'index.js'))).toBe(true);
      expect(existsSync(join(dir, 'index.js.map'))).toBe(true);
      expect(existsSync(join(dir, BUNDLED.promptDir, 'system.md'))).toBe(name === 'triage');
      expect(existsSync(join(dir, BUNDLED.promptDir, 'user.md'))).toBe(name === 'triage');
      expect(existsSync(join(dir, BUNDLED.policyDir, 'access-policy.md'))).toBe(name === 'triage');
    }
  });

  it('keeps class names in the bundles, so a cold-start error names its class', async () => {
    // The deployed pagerduty-webhook bundle, run under node_modules so the AWS SDK (left out of
    // the bundle, as the runtime provides it) resolves; invoked with no settings at all.
    const assembly = built.app.synth();
    const key = (
      (resources[functionId('pagerduty-webhook')]?.Properties.Code as Json).S3Key as string
    ).replace(/\.zip$/, '');
    const dir = join(PROJECT_ROOT, 'node_modules', '.cache', 'loopgate-keep-names');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), '{}\n');
    copyFileSync(join(assembly.directory, `asset.${key}`, 'index.js'), join(dir, 'index.js'));
    const script = `require('./index.js').handler({}).then(
      () => process.stdout.write('no error'),
      (e) => process.stdout.write(JSON.stringify({ name: e.name, ctor: e.constructor.name, message: e.message })),
    );`;
    const { stdout } = await execFileAsync(process.execPath, ['-e', script], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '' },
    });
    expect(JSON.parse(stdout)).toEqual({
      name: 'ConfigurationError',
      ctor: 'ConfigurationError',
      message: expect.stringMatching(
        /^environment variable LOOPGATE_\w+ is required( \(a key of the \w+ secret, .+\))?$/,
      ),
    });
  });
});

describe('environment', () => {
  // Exactly the variables each reader of lambdas/platform/env.ts asks for (with cdk.json's stage).
  const common = [
    'NODE_OPTIONS',
    'LOG_LEVEL',
    'LOOPGATE_STAGE',
    'LOOPGATE_TABLE_NAME',
    'LOOPGATE_CATALOG_FILE',
    'LOOPGATE_SECRET_ARNS',
    'LOOPGATE_JIRA_BASE_URL',
    'LOOPGATE_OKTA_ORG_URL',
  ];
  const provisioning = [
    ...common,
    'LOOPGATE_PAGERDUTY_FROM',
    'LOOPGATE_COMPANY_EMAIL_DOMAIN',
    'LOOPGATE_SCHEDULE_GROUP',
    'LOOPGATE_REVOKE_FUNCTION_ARN',
    'LOOPGATE_SCHEDULER_ROLE_ARN',
    'LOOPGATE_PROVISION_QUEUE_URL',
    'LOOPGATE_TRIAGE_QUEUE_URL',
  ];
  const expected: Record<FunctionName, string[]> = {
    'jira-webhook': [
      ...common,
      'LOOPGATE_JIRA_CLOSING_STATUS_CATEGORIES',
      'LOOPGATE_TRIAGE_QUEUE_URL',
      'LOOPGATE_REVOKE_QUEUE_URL',
      'LOOPGATE_DECIDE_QUEUE_URL',
      'LOOPGATE_JIRA_PROJECTS',
      'LOOPGATE_JIRA_ISSUE_TYPES',
    ],
    triage: [
      ...common,
      'LOOPGATE_PAGERDUTY_FROM',
      'LOOPGATE_PROMPT_DIR',
      'LOOPGATE_POLICY_DIR',
      'LOOPGATE_COMPANY_EMAIL_DOMAIN',
      'LOOPGATE_SLACK_MODE',
      'LOOPGATE_PROVISION_QUEUE_URL',
      'LOOPGATE_TRIAGE_QUEUE_URL',
      'LOOPGATE_MODEL',
      'LOOPGATE_MODEL_PROVIDER',
    ],
    'pagerduty-webhook': [...common, 'LOOPGATE_DECIDE_QUEUE_URL'],
    decide: [
      ...common,
      'LOOPGATE_PAGERDUTY_FROM',
      'LOOPGATE_PROVISION_QUEUE_URL',
      'LOOPGATE_REVOKE_QUEUE_URL',
      'LOOPGATE_DECIDE_QUEUE_URL',
      'LOOPGATE_CANCEL_ON_RESOLVE',
    ],
    provision: provisioning,
    revoke: provisioning,
    sweeper: [...provisioning, 'LOOPGATE_REVOKE_UNCATALOGED'],
  };
  const readers: Record<FunctionName, (env: Env) => unknown> = {
    'jira-webhook': readIntakeConfig,
    triage: readTriageConfig,
    'pagerduty-webhook': readPagerDutyWebhookConfig,
    decide: readDecideConfig,
    provision: readProvisionConfig,
    revoke: readProvisionConfig,
    sweeper: readProvisionConfig,
  };
  const variablesOf = (name: FunctionName) =>
    ((resources[functionId(name)]?.Properties.Environment as Json).Variables ?? {}) as Json;

  /** The variables as the function sees them: CloudFormation's values stood in for by plausible ones. */
  function deployed(name: FunctionName): Record<string, string> {
    return Object.fromEntries(
      Object.entries(variablesOf(name)).map(([key, value]) => {
        if (typeof value === 'string') return [key, value];
        if (key.endsWith('_QUEUE_URL')) return [key, `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/queue`];
        return [key, render(value)];
      }),
    );
  }
  /** Every key the function's secrets must hold, as the operator fills them. */
  const secretValues = (name: FunctionName) =>
    Object.fromEntries(
      FUNCTIONS[name].secrets.flatMap((secret) =>
        Object.keys(INTEGRATION_SECRETS[secret].keys).map((key) => [key, `value of ${key}`]),
      ),
    );

  it.each(FUNCTION_NAMES)('%s gets exactly the variables its reader asks for', (name) => {
    expect(Object.keys(variablesOf(name)).sort()).toEqual([...expected[name]].sort());
  });

  it.each(FUNCTION_NAMES)(
    "%s: its variables and its secrets' keys are a configuration its reader accepts; each key is needed",
    (name) => {
      // AWS_REGION is set by Lambda itself.
      const env: Record<string, string> = { ...deployed(name), ...secretValues(name), AWS_REGION: REGION };
      expect(() => readers[name](new Env(env))).not.toThrow();
      for (const key of Object.keys(secretValues(name))) {
        const { [key]: _missing, ...without } = env;
        expect(() => readers[name](new Env(without))).toThrow(key);
      }
    },
  );

  it('points the catalog and the prompts at the files inside the bundle', () => {
    expect(variablesOf('triage')).toMatchObject({
      LOOPGATE_CATALOG_FILE: `/var/task/${BUNDLED.catalog}`,
      LOOPGATE_PROMPT_DIR: `/var/task/${BUNDLED.promptDir}`,
      LOOPGATE_POLICY_DIR: `/var/task/${BUNDLED.policyDir}`,
    });
  });

  it.each(FUNCTION_NAMES)(
    '%s: LOOPGATE_SECRET_ARNS lists only the secrets it reads, each as <secret id>=<its ARN>',
    (name) => {
      const entries = render(variablesOf(name).LOOPGATE_SECRET_ARNS)
        .split(',')
        .map((entry) => {
          const [id, arn] = entry.split(/=(.*)/s) as [SecretId, string];
          return [id, exportOf(arn)];
        });
      expect(entries.sort()).toEqual(
        FUNCTIONS[name].secrets.map((secret) => [secret, secretExport(secret)]).sort(),
      );
    },
  );

  it.each(FUNCTION_NAMES)('%s knows its stage (the dimension of its metrics)', (name) => {
    expect(variablesOf(name).LOOPGATE_STAGE).toBe('dev');
  });

  it("gives the provisioning functions the revoke function's own ARN and the scheduler role", () => {
    expect(render(variablesOf('provision').LOOPGATE_REVOKE_FUNCTION_ARN)).toBe(
      `arn:aws:lambda:${REGION}:${ACCOUNT}:function:loopgate-dev-revoke`,
    );
    expect(render(variablesOf('revoke').LOOPGATE_SCHEDULER_ROLE_ARN)).toBe(
      `<${logicalId(built.appStack, built.appStack.schedulerRole)}.Arn>`,
    );
    expect(variablesOf('sweeper').LOOPGATE_SCHEDULE_GROUP).toBe('loopgate-dev-expiry');
  });

  it("tells the sweeper when to revoke grants of entitlements no longer in the catalog: the stage's choice, at expiry unless set", () => {
    expect(variablesOf('sweeper').LOOPGATE_REVOKE_UNCATALOGED).toBe('at-expiry');
    const atOnce = Template.fromStack(
      buildApp({ context: cdkContext({ ...exampleStage(), revokeUncataloged: 'at-once' }) }).appStack,
    );
    const sweeperVariables = Object.values(atOnce.findResources('AWS::Lambda::Function'))
      .map((r) => (r.Properties as Json).Environment as Json)
      .map((e) => (e.Variables ?? {}) as Json)
      .filter((v) => v.LOOPGATE_REVOKE_UNCATALOGED !== undefined);
    expect(sweeperVariables).toHaveLength(1);
    expect(sweeperVariables[0]?.LOOPGATE_REVOKE_UNCATALOGED).toBe('at-once');
  });
});

describe('docs/setup.md, "Running the functions locally"', () => {
  const section = (() => {
    const text = readFileSync(join(PROJECT_ROOT, 'docs/setup.md'), 'utf8');
    const start = text.indexOf('## 12. Running the functions locally');
    return text.slice(start, text.indexOf('\n## ', start + 1));
  })();
  const documented = new Set(section.match(/\b(LOOPGATE_[A-Z0-9_]+|AWS_REGION|LOG_LEVEL)\b/g));

  it('maps every variable the stack gives a function to where it comes from', () => {
    const set = FUNCTION_NAMES.flatMap((name) =>
      Object.keys((resources[functionId(name)]?.Properties.Environment as { Variables: Json }).Variables),
    ).filter((variable) => variable !== 'NODE_OPTIONS');
    // With every optional key set, so that no variable the stack can set is missed.
    const full = Template.fromStack(
      buildApp({
        context: cdkContext({
          ...exampleStage(),
          jira: {
            ...(exampleStage().jira as Json),
            fields: {
              entitlement: 'customfield_1',
              duration: 'customfield_2',
              justification: 'customfield_3',
            },
            statuses: Object.fromEntries(
              ['approved', 'denied', 'cancelled', 'granted', 'revoked', 'failed'].map((o) => [o, o]),
            ),
            breakGlass: { label: 'bg', priority: 'Highest' },
            closing: { statusCategories: ['done'], statuses: ['Withdrawn'], adminAccountIds: ['a1'] },
            automationHeader: 'X-Automation',
          },
          pagerduty: { ...(exampleStage().pagerduty as Json), baseUrl: 'https://pd.example.com' },
          okta: {
            ...(exampleStage().okta as Json),
            identity: { jiraAccountIdAttribute: 'a', pagerDutyUserIdAttribute: 'b' },
          },
          slack: { mode: 'history', channels: ['C1'] },
          model: {
            name: 'm',
            provider: 'azure',
            baseUrl: 'https://m.example.com',
            apiVersion: 'v',
            timeoutMs: 5000,
            temperature: 0,
            maxOutputTokens: 500,
            tokenLimitParameter: 'max_tokens',
            maxRetries: 0,
          },
          triage: { sourceTimeoutMs: 1000, budgetMs: 2000, tokenBudget: 1000 },
          timeouts: { jiraWebhookCallMs: 1000, pagerdutyWebhookCallMs: 1000, callMs: 1000, secretsMs: 1000 },
          decisionTimeoutMinutes: 60,
        }),
      }).appStack,
    );
    const fullySet = Object.values(full.findResources('AWS::Lambda::Function')).flatMap((fn) =>
      Object.keys((fn.Properties.Environment as { Variables: Json }).Variables),
    );
    const missing = [...new Set([...set, ...fullySet])].filter(
      (variable) => variable !== 'NODE_OPTIONS' && !documented.has(variable),
    );
    expect(missing).toEqual([]);
  });

  it('names every variable the functions read (lambdas/platform/env.ts, secrets.ts)', () => {
    const read = ['env.ts', 'secrets.ts'].flatMap((file) => [
      ...readFileSync(join(PROJECT_ROOT, 'lambdas/platform', file), 'utf8').matchAll(
        /'(LOOPGATE_[A-Z0-9_]+|AWS_REGION|LOG_LEVEL)'/g,
      ),
    ]);
    expect(read.length).toBeGreaterThan(50);
    expect([...new Set(read.map((m) => m[1]))].filter((variable) => !documented.has(variable ?? ''))).toEqual(
      [],
    );
  });
});

describe('webhooks', () => {
  it('gives jira-webhook and pagerduty-webhook, and only them, a public Function URL', () => {
    const urls = template.findResources('AWS::Lambda::Url');
    expect(
      Object.values(urls)
        .map((u) => (u.Properties.TargetFunctionArn as Json)['Fn::GetAtt'])
        .sort(),
    ).toEqual(
      [
        [functionId('jira-webhook'), 'Arn'],
        [functionId('pagerduty-webhook'), 'Arn'],
      ].sort(),
    );
    for (const url of Object.values(urls)) expect(url.Properties.AuthType).toBe('NONE');
    const outputs = template.findOutputs('*');
    expect(render(outputs.JiraWebhookUrl?.Value)).toMatch(
      /^<JiraWebhookFunctionFunctionUrl\w+\.FunctionUrl>$/,
    );
    expect(render(outputs.PagerDutyWebhookUrl?.Value)).toMatch(
      /^<PagerdutyWebhookFunctionFunctionUrl\w+\.FunctionUrl>$/,
    );
  });
});

describe('queues', () => {
  const cases = [
    // At least 5 wherever throttling is possible: a throttled invocation is a receive too.
    { queue: 'triage', consumer: 'triage', maxReceiveCount: 5 },
    { queue: 'provision', consumer: 'provision', maxReceiveCount: MAX_ATTEMPTS },
    { queue: 'revoke', consumer: 'revoke', maxReceiveCount: MAX_ATTEMPTS },
    { queue: 'decide', consumer: 'decide', maxReceiveCount: MAX_DECIDE_ATTEMPTS },
  ] as const;

  it.each(cases)(
    '$queue: a dead-letter queue after $maxReceiveCount receives, visible 6× the timeout of $consumer',
    ({ queue, consumer, maxReceiveCount }) => {
      const { queue: main, dlq } = built.appStack.queues[queue];
      const properties = resources[logicalId(built.appStack, main)]?.Properties as Json;
      expect(properties.RedrivePolicy).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(built.appStack, dlq), 'Arn'] },
        maxReceiveCount,
      });
      expect(maxReceiveCount).toBeGreaterThanOrEqual(5);
      expect(properties.VisibilityTimeout).toBeGreaterThanOrEqual(6 * FUNCTIONS[consumer].timeoutSeconds);
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: { 'Fn::GetAtt': [logicalId(built.appStack, main), 'Arn'] },
        FunctionName: { Ref: functionId(consumer) },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    },
  );

  it('encrypts every queue and refuses requests without TLS', () => {
    const queues = template.findResources('AWS::SQS::Queue');
    expect(Object.keys(queues)).toHaveLength(8);
    for (const [id, queue] of Object.entries(queues)) {
      expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: [
            {
              Effect: 'Deny',
              Action: 'sqs:*',
              Principal: { AWS: '*' },
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              Resource: { 'Fn::GetAtt': [id, 'Arn'] },
            },
          ],
        },
      });
    }
  });
});

describe('capacity: a webhook flood cannot starve revoke and the sweeper', () => {
  const reservations = (stack: Template) =>
    Object.fromEntries(
      Object.values(stack.findResources('AWS::Lambda::Function')).map((fn) => [
        String(fn.Properties.FunctionName).replace(/^loopgate-\w+?-/, ''),
        fn.Properties.ReservedConcurrentExecutions,
      ]),
    );
  const scaling = (stack: Template) =>
    Object.values(stack.findResources('AWS::Lambda::EventSourceMapping')).map((m) => [
      m.Properties.FunctionName,
      m.Properties.ScalingConfig,
    ]);

  it('by default keeps 5 for revoke and 2 for the sweeper, caps each webhook at 10, and leaves the rest unreserved', () => {
    expect(reservations(template)).toEqual({
      'jira-webhook': 10,
      triage: undefined,
      'pagerduty-webhook': 10,
      decide: undefined,
      provision: undefined,
      revoke: 5,
      sweeper: 2,
    });
    // 27 in all: Lambda keeps 100 unreserved, so this deploys where the limit is at least 127.
    expect(DEFAULT_RESERVED_CONCURRENCY.webhooks * 2 + 5 + 2).toBe(27);
  });

  it("keeps the revoke queue's pollers 2 below revoke's reservation, so expiry schedules are never crowded out", () => {
    expect(scaling(template)).toContainEqual([{ Ref: functionId('revoke') }, { MaximumConcurrency: 3 }]);
    for (const name of ['triage', 'provision', 'decide'] as const) {
      expect(scaling(template)).toContainEqual([{ Ref: functionId(name) }, undefined]);
    }
    expect([3, 4, 5, 10].map(revokeQueueConcurrency)).toEqual([2, 2, 3, 8]);
  });

  it('takes other numbers from the stage configuration, or reserves nothing with false', () => {
    const custom = Template.fromStack(
      buildApp({
        context: cdkContext({ ...exampleStage(), reservedConcurrency: { webhooks: 4, revoke: 10 } }),
      }).appStack,
    );
    expect(reservations(custom)).toMatchObject({
      'jira-webhook': 4,
      'pagerduty-webhook': 4,
      revoke: 10,
      sweeper: 2,
    });
    const off = Template.fromStack(
      buildApp({ context: cdkContext({ ...exampleStage(), reservedConcurrency: false }) }).appStack,
    );
    expect(Object.values(reservations(off)).every((r) => r === undefined)).toBe(true);
    expect(scaling(off).every(([, config]) => config === undefined)).toBe(true);
  });
});

describe('expiry and the sweeper', () => {
  it('has the schedule group and a role Scheduler may use only to invoke the revoke function', () => {
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'loopgate-dev-expiry' });
    const role = resources[logicalId(built.appStack, built.appStack.schedulerRole)]?.Properties as Json;
    const trust = list((role.AssumeRolePolicyDocument as Json).Statement as Statement[]);
    expect(trust).toHaveLength(1);
    expect(trust[0]?.Principal).toEqual({ Service: 'scheduler.amazonaws.com' });
    expect(trust[0]?.Condition).toMatchObject({
      StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
    });
    const statements = statementsOf(logicalId(built.appStack, built.appStack.schedulerRole));
    expect(statements.map((s) => [s.Action, render(s.Resource)])).toEqual([
      ['lambda:InvokeFunction', `arn:aws:lambda:${REGION}:${ACCOUNT}:function:loopgate-dev-revoke`],
    ]);
  });

  it('runs the sweeper at rate(5 minutes)', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Targets: [
        {
          Arn: { 'Fn::GetAtt': [functionId('sweeper'), 'Arn'] },
          Id: 'Target0',
          RetryPolicy: { MaximumRetryAttempts: 2 },
        },
      ],
    });
  });
});

describe('alarms', () => {
  const alarms = () =>
    Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
  const topic = () => logicalId(built.appStack, built.appStack.alarmTopic);

  it('sends every alarm, and its recovery, to the alarm topic', () => {
    expect(alarms().length).toBe(Object.keys(built.appStack.queues).length + 5 + 2 * FUNCTION_NAMES.length);
    for (const alarm of alarms()) {
      expect(alarm.AlarmActions).toEqual([{ Ref: topic() }]);
      expect(alarm.OKActions).toEqual([{ Ref: topic() }]);
      // The heartbeat and the revoke queue's age have their own thresholds (see below).
      if (
        ['loopgate-dev-sweeper-stopped', 'loopgate-dev-revoke-queue-stuck'].includes(
          alarm.AlarmName as string,
        )
      ) {
        continue;
      }
      expect(alarm).toMatchObject({
        // Refused signatures alarm from the third in 15 minutes: the URLs are public.
        Threshold: alarm.MetricName === SIGNATURE_FAILURE_METRIC ? 2 : 0,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      });
    }
  });

  it("counts each webhook's refused signatures from its own logs, by the stage its lines carry", () => {
    const filters = Object.values(template.findResources('AWS::Logs::MetricFilter')).map((f) => f.Properties);
    expect(filters.map((f) => (f.LogGroupName as Json).Ref).sort()).toEqual(
      (['jira-webhook', 'pagerduty-webhook'] as const)
        .map((name) => logicalId(built.appStack, built.appStack.functions[name].logGroup))
        .sort(),
    );
    for (const filter of filters) {
      expect(filter.FilterPattern).toBe('{ ($.message = "request refused") && ($.status = 401) }');
      expect(filter.MetricTransformations).toEqual([
        {
          MetricNamespace: METRIC_NAMESPACE,
          MetricName: SIGNATURE_FAILURE_METRIC,
          MetricValue: '1',
          Unit: 'Count',
          Dimensions: [{ Key: STAGE_DIMENSION, Value: '$.stage' }],
        },
      ]);
    }
  });

  it('alarms on repeated webhook signature failures of this stage, named and described with it', () => {
    expect(alarms()).toContainEqual(
      expect.objectContaining({
        AlarmName: 'loopgate-dev-webhook-signature-failures',
        AlarmDescription: expect.stringMatching(
          /^loopgate dev: three or more webhook deliveries refused with 401/,
        ),
        Namespace: METRIC_NAMESPACE,
        MetricName: SIGNATURE_FAILURE_METRIC,
        Dimensions: [{ Name: STAGE_DIMENSION, Value: 'dev' }],
        Statistic: 'Sum',
        Period: 900,
        Threshold: 2,
        EvaluationPeriods: 1,
      }),
    );
    // The refused lines are warnings: a stage logging errors only would never count one.
    expect(
      Annotations.fromStack(built.appStack).findWarning('*', Match.stringLikeRegexp('signature')),
    ).toEqual([]);
    const quiet = buildApp({ context: cdkContext({ ...exampleStage(), logLevel: 'error' }) });
    expect(
      Annotations.fromStack(quiet.appStack).findWarning(
        '*',
        Match.stringLikeRegexp('webhook-signature-failures'),
      ),
    ).toHaveLength(1);
  });

  it('alarms on any message in any dead-letter queue', () => {
    for (const { dlq } of Object.values(built.appStack.queues)) {
      expect(alarms()).toContainEqual(
        expect.objectContaining({
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Dimensions: [
            { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(built.appStack, dlq), 'QueueName'] } },
          ],
        }),
      );
    }
  });

  it("alarms on the sweeper's FailedRequests and SweepErrors of this stage, and on every function's errors and throttles", () => {
    for (const metric of ['FailedRequests', 'SweepErrors']) {
      expect(alarms()).toContainEqual(
        expect.objectContaining({
          Namespace: METRIC_NAMESPACE,
          MetricName: metric,
          Dimensions: [{ Name: STAGE_DIMENSION, Value: 'dev' }],
          Statistic: 'Maximum',
        }),
      );
    }
    for (const name of FUNCTION_NAMES) {
      for (const metric of ['Errors', 'Throttles']) {
        expect(alarms()).toContainEqual(
          expect.objectContaining({
            Namespace: 'AWS/Lambda',
            MetricName: metric,
            Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId(name) } }],
          }),
        );
      }
    }
  });

  it('alarms when the sweeper stops: under one heartbeat (a completed sweep) in 15 minutes, and no data at all breaches', () => {
    expect(alarms()).toContainEqual(
      expect.objectContaining({
        AlarmName: 'loopgate-dev-sweeper-stopped',
        AlarmDescription: expect.stringMatching(/^loopgate dev: no sweep has completed for 15 minutes/),
        Namespace: METRIC_NAMESPACE,
        MetricName: 'SweeperHeartbeat',
        Dimensions: [{ Name: STAGE_DIMENSION, Value: 'dev' }],
        Statistic: 'Sum',
        Period: 900,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        // A sweeper that never completes a sweep beats no heartbeat: missing data is the alarm.
        TreatMissingData: 'breaching',
      }),
    );
  });

  it("alarms when a revoke waits longer than all its queue's deliveries take: nothing receives it", () => {
    const queue = built.appStack.queues.revoke.queue;
    // 6 × the revoke function's 60 s timeout (the visibility timeout) × 5 receives.
    const deliveries = 6 * FUNCTIONS.revoke.timeoutSeconds * MAX_ATTEMPTS;
    expect(deliveries).toBe(1800);
    expect(resources[logicalId(built.appStack, queue)]?.Properties).toMatchObject({
      VisibilityTimeout: 6 * FUNCTIONS.revoke.timeoutSeconds,
      RedrivePolicy: { maxReceiveCount: MAX_ATTEMPTS },
    });
    expect(alarms()).toContainEqual(
      expect.objectContaining({
        AlarmName: 'loopgate-dev-revoke-queue-stuck',
        AlarmDescription: expect.stringMatching(
          /^loopgate dev: a revoke has waited in its queue .*30 minutes/,
        ),
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateAgeOfOldestMessage',
        Dimensions: [
          { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(built.appStack, queue), 'QueueName'] } },
        ],
        Statistic: 'Maximum',
        Threshold: deliveries,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'notBreaching',
      }),
    );
  });

  it('names and describes every alarm with its stage', () => {
    for (const alarm of alarms()) {
      expect(alarm.AlarmName).toMatch(/^loopgate-dev-[a-z-]+$/);
      expect(alarm.AlarmDescription).toMatch(/^loopgate dev: /);
    }
    expect(new Set(alarms().map((a) => a.AlarmName)).size).toBe(alarms().length);
  });

  it("watches only this stage: each alarm's one metric is of this stage's queues or functions, or carries the Stage dimension", () => {
    const queues = Object.values(built.appStack.queues).flatMap(({ queue, dlq }) =>
      [queue, dlq].map((q) => logicalId(built.appStack, q)),
    );
    const functions = FUNCTION_NAMES.map(functionId);
    for (const alarm of alarms()) {
      // One metric, no math: the dimensions below are all the alarm looks at.
      expect(alarm.Metrics).toBeUndefined();
      expect(alarm.MetricName).toEqual(expect.any(String));
      const dimensions = alarm.Dimensions as { Name: string; Value: Json }[];
      expect(dimensions).toHaveLength(1);
      const [{ Name, Value }] = dimensions as [{ Name: string; Value: Json }];
      if (alarm.Namespace === METRIC_NAMESPACE) {
        expect({ Name, Value }).toEqual({ Name: STAGE_DIMENSION, Value: 'dev' });
      } else if (alarm.Namespace === 'AWS/SQS') {
        expect(Name).toBe('QueueName');
        expect(queues).toContain((Value['Fn::GetAtt'] as string[])[0]);
      } else {
        // Each function is named loopgate-dev-<name> (see "functions").
        expect(alarm.Namespace).toBe('AWS/Lambda');
        expect(Name).toBe('FunctionName');
        expect(functions).toContain(Value.Ref);
      }
    }
  });

  it('encrypts the topic with a rotated key CloudWatch may use, and refuses publishing without TLS', () => {
    const properties = resources[topic()]?.Properties as Json;
    const key = (properties.KmsMasterKeyId as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0] as string;
    expect(resources[key]?.Properties.EnableKeyRotation).toBe(true);
    const keyStatements = list((resources[key]?.Properties.KeyPolicy as Json).Statement as Statement[]);
    expect(keyStatements).toContainEqual(
      expect.objectContaining({
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      }),
    );
    const policy = Object.values(template.findResources('AWS::SNS::TopicPolicy'))[0]?.Properties as Json;
    expect((policy.PolicyDocument as Json).Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    expect(render(template.findOutputs('AlarmTopicArn').AlarmTopicArn?.Value)).toBe(`<${topic()}>`);
  });
});

describe('least privilege', () => {
  it('lets only the functions that delete items delete them: never triage, and the PagerDuty webhook has no table at all', () => {
    const deleting = FUNCTION_NAMES.filter((name) =>
      actionsOf(statementsOf(roleId(name))).includes('dynamodb:DeleteItem'),
    );
    expect(deleting.sort()).toEqual(['decide', 'jira-webhook', 'provision', 'revoke', 'sweeper']);
    expect(actionsOf(statementsOf(roleId('triage')))).toContain('dynamodb:PutItem');
    expect(actionsOf(statementsOf(roleId('pagerduty-webhook'))).some((a) => a.startsWith('dynamodb:'))).toBe(
      false,
    );
  });

  const catalogUserPolicy = 'arn:aws:iam::aws:policy/AWSBillingReadOnlyAccess';
  const catalogRole = `arn:aws:iam::${ACCOUNT}:role/prod-incident-operator`;
  const users = `arn:aws:iam::${ACCOUNT}:user/*`;
  const schedules = `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/loopgate-dev-expiry/loopgate-revoke-*`;

  it.each(FUNCTION_NAMES)(
    '%s: no wildcard action; "*" resources only where no resource type exists',
    (name) => {
      for (const statement of statementsOf(roleId(name))) {
        for (const action of list(statement.Action)) expect(action).not.toMatch(/\*/);
        if (list(statement.Resource).includes('*')) {
          expect(list(statement.Action).every((a) => a === 'iam:GetServiceLastAccessedDetails')).toBe(true);
        }
      }
    },
  );

  it.each(FUNCTION_NAMES)('%s may read only the secrets it needs, and only their values', (name) => {
    const statements = statementsOf(roleId(name)).filter((s) =>
      actionsOf([s]).some((a) => a.startsWith('secretsmanager:')),
    );
    expect(actionsOf(statements)).toEqual(['secretsmanager:GetSecretValue']);
    const resources = list(statements[0]?.Resource).map(render);
    expect(resources.map(exportOf).sort()).toEqual(FUNCTIONS[name].secrets.map(secretExport).sort());
  });

  it.each([
    ['jira-webhook', ['decide', 'revoke', 'triage']],
    ['triage', ['provision', 'triage']],
    ['pagerduty-webhook', ['decide']],
    ['decide', ['decide', 'provision', 'revoke']],
    ['provision', []],
    ['revoke', []],
    ['sweeper', ['provision', 'triage']],
  ] as const)('%s sends only to the next stage: %j', (name, queues) => {
    const sends = withAction(statementsOf(roleId(name)), 'sqs:SendMessage');
    expect(actionsOf(sends).filter((a) => a.startsWith('sqs:Send'))).toEqual(
      queues.length ? ['sqs:SendMessage'] : [],
    );
    expect(
      sends
        .flatMap((s) => list(s.Resource))
        .map(render)
        .sort(),
    ).toEqual(queues.map((q) => `<${logicalId(built.appStack, built.appStack.queues[q].queue)}.Arn>`).sort());
  });

  it('gives the webhooks no IAM and no Scheduler rights at all', () => {
    for (const name of ['jira-webhook', 'pagerduty-webhook'] as const) {
      expect(actionsOf(statementsOf(roleId(name))).filter((a) => /^(iam|scheduler):/.test(a))).toEqual([]);
    }
  });

  it("lets triage only read IAM: the requester's user and groups, and the last-accessed report", () => {
    const iam = statementsOf(roleId('triage')).filter((s) =>
      actionsOf([s]).some((a) => a.startsWith('iam:')),
    );
    for (const action of actionsOf(iam))
      expect(action).toMatch(/^iam:(Get|List|GenerateServiceLastAccessed)/);
    expect(iam.map((s) => list(s.Resource).map(render))).toEqual([
      [users],
      [`arn:aws:iam::${ACCOUNT}:group/*`],
      ['*'],
    ]);
  });

  it("lets provision attach only the catalog's managed policies, write inline policies only on the catalog's roles and users, and pass only the scheduler role", () => {
    const statements = statementsOf(roleId('provision'));
    expect(withAction(statements, 'iam:AttachUserPolicy')).toEqual([
      expect.objectContaining({ Condition: { ArnEquals: { 'iam:PolicyARN': [catalogUserPolicy] } } }),
    ]);
    expect(withAction(statements, 'iam:PutRolePolicy').flatMap((s) => list(s.Resource).map(render))).toEqual([
      catalogRole,
    ]);
    expect(withAction(statements, 'iam:PutUserPolicy').flatMap((s) => list(s.Resource).map(render))).toEqual([
      users,
    ]);
    const passRole = withAction(statements, 'iam:PassRole');
    expect(passRole.map((s) => [render(s.Resource), s.Condition])).toEqual([
      [
        `<${logicalId(built.appStack, built.appStack.schedulerRole)}.Arn>`,
        { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      ],
    ]);
    expect(withAction(statements, 'scheduler:CreateSchedule').map((s) => render(s.Resource))).toEqual([
      schedules,
    ]);
    // Granting never removes.
    expect(actionsOf(statements).filter((a) => /^iam:(Delete|Detach)|^scheduler:Delete/.test(a))).toEqual([]);
  });

  it.each(['revoke', 'sweeper'] as const)(
    "%s may only remove what the catalog grants, and cancel loopgate's schedules",
    (name) => {
      const statements = statementsOf(roleId(name));
      expect(withAction(statements, 'iam:DetachUserPolicy')).toEqual([
        expect.objectContaining({ Condition: { ArnEquals: { 'iam:PolicyARN': [catalogUserPolicy] } } }),
      ]);
      expect(
        withAction(statements, 'iam:DeleteRolePolicy').flatMap((s) => list(s.Resource).map(render)),
      ).toEqual([catalogRole]);
      expect(withAction(statements, 'scheduler:DeleteSchedule').map((s) => render(s.Resource))).toEqual([
        schedules,
      ]);
      // Revoking never grants, and never passes a role.
      expect(
        actionsOf(statements).filter((a) => /^iam:(Put|Attach|PassRole)|^scheduler:(Create|Update)/.test(a)),
      ).toEqual([]);
    },
  );

  const PERMISSION_SET = 'arn:aws:sso:::permissionSet/ssoins-7223a1b2c3d4e5f6/ps-4a1b2c3d4e5f6a7b';
  const INSTANCE = 'arn:aws:sso:::instance/ssoins-7223a1b2c3d4e5f6';

  it.each([
    ['provision', 'sso:CreateAccountAssignment', 'Creation'],
    ['revoke', 'sso:DeleteAccountAssignment', 'Deletion'],
    ['sweeper', 'sso:DeleteAccountAssignment', 'Deletion'],
  ] as const)(
    "%s may write Identity Center assignments only of the catalog's permission set on its account, and read users only in its store",
    (name, write, verb) => {
      const statements = statementsOf(roleId(name));
      const writes = withAction(statements, write);
      // Exactly the catalog's pair: no wildcard instance, permission set or account.
      expect(writes.map((s) => list(s.Resource).map(render).sort())).toEqual([
        ['arn:aws:sso:::account/111122223333', INSTANCE, PERMISSION_SET],
      ]);
      expect(
        actionsOf(statements)
          .filter((a) => a.startsWith('sso:'))
          .sort(),
      ).toEqual(
        [
          write,
          'sso:ListAccountAssignments',
          `sso:DescribeAccountAssignment${verb}Status`,
          `sso:ListAccountAssignment${verb}Status`,
        ].sort(),
      );
      for (const statement of withAction(statements, `sso:DescribeAccountAssignment${verb}Status`)) {
        expect(list(statement.Resource).map(render)).toEqual([INSTANCE]);
      }
      const users = withAction(statements, 'identitystore:GetUserId');
      expect(actionsOf(users)).toEqual(['identitystore:GetUserId']);
      expect(users.flatMap((s) => list(s.Resource).map(render))).toEqual([
        'arn:aws:identitystore::*:identitystore/d-9067a1b2c3',
        'arn:aws:identitystore:::user/*',
      ]);
      // Granting never removes, revoking never grants.
      const other =
        write === 'sso:CreateAccountAssignment'
          ? 'sso:DeleteAccountAssignment'
          : 'sso:CreateAccountAssignment';
      expect(actionsOf(statements)).not.toContain(other);
    },
  );

  it('gives no other function any Identity Center or identity store right', () => {
    for (const name of FUNCTION_NAMES.filter((n) => !['provision', 'revoke', 'sweeper'].includes(n))) {
      expect(actionsOf(statementsOf(roleId(name))).filter((a) => /^(sso|identitystore):/.test(a))).toEqual(
        [],
      );
    }
  });

  it("gives no role any IAM write on a wildcard other than the requesters' users", () => {
    const writes = /^iam:(Put|Attach|Detach|Delete|Create|Update|PassRole)/;
    for (const name of FUNCTION_NAMES) {
      for (const statement of statementsOf(roleId(name))) {
        if (!actionsOf([statement]).some((a) => writes.test(a))) continue;
        for (const resource of list(statement.Resource).map(render)) {
          expect(resource === users || !resource.includes('*')).toBe(true);
        }
      }
    }
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing that is not acknowledged', () => {
    const report = new AwsSolutionsChecks().validateScope(built.app);
    expect(report.violations.map((v) => `${v.ruleName} ${v.violatingResources[0]?.constructPath}`)).toEqual(
      [],
    );
    expect(report.success).toBe(true);
  });

  it('acknowledges each finding specifically, with a reason', () => {
    const acknowledged: [string, string][] = [];
    const visit = (construct: IConstruct) => {
      for (const entry of construct.node.metadata) {
        if (entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) {
          acknowledged.push(...(Object.entries(entry.data as Record<string, string>) as [string, string][]));
        }
      }
      construct.node.children.forEach(visit);
    };
    visit(built.app);
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const [id, reason] of acknowledged) {
      expect(reason.length).toBeGreaterThan(40);
      // IAM5 findings are acknowledged one resource at a time, never the rule as a whole.
      if (id.includes('AwsSolutions-IAM5')) expect(id).toMatch(/AwsSolutions-IAM5\[Resource::.+\]$/);
    }
    expect(
      [...new Set(acknowledged.map(([id]) => id.replace(/^Annotation::/, '').replace(/\[.*$/, '')))].sort(),
    ).toEqual(['AwsSolutions-IAM5', 'AwsSolutions-L1', 'AwsSolutions-SMG4']);
  });
});

describe('teardown: cdk destroy, then cdk deploy of the same stage', () => {
  const retained = (stack: Template) =>
    Object.entries(stack.toJSON().Resources as Record<string, { Type: string; DeletionPolicy?: string }>)
      .filter(([, r]) => r.DeletionPolicy === 'Retain')
      .map(([, r]) => r.Type);

  it('leaves only the log groups behind, which CloudFormation names, so nothing collides on the next deploy', () => {
    expect(retained(template)).toEqual(FUNCTION_NAMES.map(() => 'AWS::Logs::LogGroup'));
    for (const logGroup of Object.values(template.findResources('AWS::Logs::LogGroup'))) {
      expect(logGroup.Properties.LogGroupName).toBeUndefined();
    }
  });

  it('deletes the schedule group, fixed name and all, with the stack', () => {
    template.hasResource('AWS::Scheduler::ScheduleGroup', {
      Properties: { Name: 'loopgate-dev-expiry' },
      DeletionPolicy: 'Delete',
    });
  });

  it("deletes the alarm topic's key after KMS's shortest wait: it only ever encrypted messages in flight", () => {
    const keys = Object.values(template.findResources('AWS::KMS::Key'));
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ DeletionPolicy: 'Delete', Properties: { PendingWindowInDays: 7 } });
  });

  it('with secrets "adopt", reads the existing loopgate/<stage>/* secrets by name, and only its own', () => {
    const adopted = buildApp({ context: cdkContext({ ...exampleStage(), secrets: 'adopt' }) });
    const stack = Template.fromStack(adopted.appStack);
    const functions = Object.values(stack.findResources('AWS::Lambda::Function'));
    const arnOf = (name: string) =>
      `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:loopgate/dev/${INTEGRATION_SECRETS[name as SecretId].name}`;
    for (const name of FUNCTION_NAMES) {
      const fn = functions.find((f) => f.Properties.FunctionName === `loopgate-dev-${name}`);
      const variables = (fn?.Properties.Environment as { Variables: Json }).Variables;
      expect(render(variables.LOOPGATE_SECRET_ARNS).split(',').sort()).toEqual(
        FUNCTIONS[name].secrets.map((secret) => `${secret}=${arnOf(secret)}`).sort(),
      );
      const role = adopted.appStack.getLogicalId(
        adopted.appStack.functions[name].role.node.defaultChild as never,
      );
      const statements = Object.values(stack.findResources('AWS::IAM::Policy'))
        .filter((p) => list(p.Properties.Roles as Json[]).some((r) => r.Ref === role))
        .flatMap((p) => list((p.Properties.PolicyDocument as Json).Statement as Statement[]));
      const read = statements.find((st) => st.Sid === 'ReadOwnSecrets');
      expect(read?.Action).toBe('secretsmanager:GetSecretValue');
      expect(list(read?.Resource).map(render).sort()).toEqual(
        FUNCTIONS[name].secrets.map((secret) => `${arnOf(secret)}-??????`).sort(),
      );
    }
  });
});

describe('the catalog and the stage shape the stack', () => {
  /** The example catalog with only the Okta group entitlements: nothing to grant in IAM. */
  function oktaOnlyCatalog(): string {
    const catalog = parse(readFileSync(join(PROJECT_ROOT, 'config/catalog.yaml'), 'utf8')) as {
      entitlements: { action: { kind: string }; narrowerAlternatives?: string[] }[];
      conflicts?: unknown;
    };
    catalog.entitlements = catalog.entitlements.filter((e) => e.action.kind === 'okta-group');
    // The example's conflict names an IAM entitlement this catalog leaves out.
    delete catalog.conflicts;
    const file = join(mkdtempSync(join(tmpdir(), 'loopgate-cdk-')), 'catalog.yaml');
    writeFileSync(file, stringify(catalog));
    return file;
  }

  it('grants no IAM write at all when the catalog grants nothing in IAM', () => {
    const app = buildApp({ context: cdkContext({ ...exampleStage(), catalog: oktaOnlyCatalog() }) });
    const stack = app.appStack;
    const all = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap((p) =>
      list((p.Properties.PolicyDocument as Json).Statement as Statement[]),
    );
    const iamActions = actionsOf(all).filter((a) => a.startsWith('iam:'));
    expect(iamActions.filter((a) => !/^iam:(Get|List|GenerateServiceLastAccessed)/.test(a))).toEqual([
      'iam:PassRole',
    ]);
    // Only triage still reads requesters' users (context), never writes them.
    const provisionRole = logicalId(stack, stack.functions.provision.role);
    const provisionPolicies = Object.values(
      Template.fromStack(stack).findResources('AWS::IAM::Policy'),
    ).filter((p) => list(p.Properties.Roles as Json[]).some((r) => r.Ref === provisionRole));
    expect(JSON.stringify(provisionPolicies)).not.toContain(':user/');
  });

  it('applies the permissions boundary to every role and subscribes the alarm email when configured', () => {
    const boundary = `arn:aws:iam::${ACCOUNT}:policy/loopgate-boundary`;
    const { appStack } = buildApp({
      context: cdkContext({
        ...exampleStage(),
        permissionsBoundaryArn: boundary,
        alarmEmail: 'ops@example.com',
      }),
    });
    const stage = Template.fromStack(appStack);
    const roles = Object.values(stage.findResources('AWS::IAM::Role'));
    expect(roles).toHaveLength(FUNCTION_NAMES.length + 1);
    for (const role of roles) expect(role.Properties.PermissionsBoundary).toBe(boundary);
    stage.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
  });

  it('names everything by stage, so two stages fit in one account', () => {
    const { appStack, stateful } = buildApp({ context: cdkContext({ ...exampleStage(), stage: 'prod' }) });
    expect([appStack.stackName, stateful.stackName]).toEqual(['loopgate-prod-app', 'loopgate-prod-stateful']);
    const stage = Template.fromStack(appStack);
    stage.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: 'loopgate-prod-expiry' });
    stage.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'loopgate-prod-triage' });
    stage.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'loopgate-prod-sweeper',
      Environment: { Variables: { LOOPGATE_STAGE: 'prod' } },
    });
    // Its alarms are its own: other names, and loopgate's metrics of the prod dimension only.
    const prodAlarms = Object.values(stage.findResources('AWS::CloudWatch::Alarm')).map((a) => a.Properties);
    const devNames = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (a) => a.Properties.AlarmName,
    );
    expect(prodAlarms).toHaveLength(devNames.length);
    for (const alarm of prodAlarms) {
      expect(alarm.AlarmName).toMatch(/^loopgate-prod-/);
      expect(devNames).not.toContain(alarm.AlarmName);
      expect(alarm.AlarmDescription).toMatch(/^loopgate prod: /);
      if (alarm.Namespace === METRIC_NAMESPACE) {
        expect(alarm.Dimensions).toEqual([{ Name: STAGE_DIMENSION, Value: 'prod' }]);
      }
    }
  });
});

describe('the operators’ managed policy', () => {
  it('reads the table by its indexes, records steps with PutItem, queues revoke and decide, reads IAM and Identity Center: nothing else', () => {
    const policies = Object.values(template.findResources('AWS::IAM::ManagedPolicy')).filter((p) =>
      String((p.Properties as Json).Description).includes("the operator's commands"),
    );
    expect(policies).toHaveLength(1);
    const statements = ((policies[0]?.Properties as Json).PolicyDocument as Json).Statement as Json[];
    const actions = Object.fromEntries(statements.map((s) => [s.Sid, [s.Action].flat().sort()]));
    expect(actions).toEqual({
      ReadRequests: ['dynamodb:DescribeTable', 'dynamodb:GetItem', 'dynamodb:Query'],
      RecordOperatorSteps: ['dynamodb:PutItem'],
      QueueRevokeAndFollowUps: ['sqs:SendMessage'],
      VerifyIamGrants: ['iam:GetRolePolicy', 'iam:GetUserPolicy', 'iam:ListAttachedUserPolicies'],
      // The example catalog's one Identity Center pair, read back only.
      VerifyIdentityCenterAssignment1: ['sso:ListAccountAssignments'],
      VerifyIdentityStoreUsers: ['identitystore:GetUserId'],
    });
    const read = statements.find((s) => s.Sid === 'ReadRequests') as Json;
    expect((read.Resource as unknown[]).map(render).filter((r) => r.includes('/index/'))).toHaveLength(
      Object.keys(INDEXES).length,
    );
    expect(template.findOutputs('OperatorPolicyArn').OperatorPolicyArn).toBeDefined();
  });
});
