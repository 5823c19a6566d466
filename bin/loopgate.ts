// The loopgate command line: check and list the catalog, run the local sandbox,
// evaluate and render the recommendation prompt.
// Output for people is plain text; `--json` gives output for scripts.

import { readFileSync, realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type Catalog, CatalogError, type Entitlement } from '../lambdas/core/catalog';
import { formatDuration } from '../lambdas/core/duration';
import { ConfigurationError } from '../lambdas/core/errors';
import { systemClock } from '../lambdas/core/ports';
import { loadCatalogFile } from '../lambdas/platform/catalog-file';
import { createIamClient } from '../lambdas/connectors/aws-iam/client';
import { DEFAULT_CATALOG_FILE } from '../lib/stage-config';
import {
  awsManagedPolicyNames,
  checkLive,
  checkOffline,
  locatorOf,
  managedPolicyArnsOf,
  type PolicyProblem,
} from './managed-policies';
import { DEFAULT_SCENARIO_FILE } from '../sandbox/scenario/load';
import { Sandbox } from '../sandbox/world';
import {
  Env,
  readCommonSettings,
  readOperatorActionConfig,
  readOperatorVerifyConfig,
} from '../lambdas/platform/env';
import { callerIdentity } from '../lambdas/connectors/aws-sts/caller-identity';
import { awsCredentials, requestStore, sqsWorkQueue } from '../lambdas/wiring/shared';
import { demo } from './demo/run';
import { DEFAULT_ENV_FILE, devCommand } from './dev';
import { EvalCaseError } from './eval/cases';
import { exportFeedbackCommand, reportCommand } from './feedback';
import {
  actCommand,
  dateOf,
  grantsCommand,
  OperatorInputError,
  requestsCommand,
  showCommand,
  verifyGrantsCommand,
} from './operate';
import { companyPrincipalFor, IamPolicyProvisioner } from '../lambdas/connectors/aws-iam/provisioner';
import { createOktaClient } from '../lambdas/connectors/okta';
import { OktaGroupProvisioner } from '../lambdas/connectors/okta/provisioner';
import { createIdentityCenterClients } from '../lambdas/connectors/identity-center/client';
import { IdentityCenterProvisioner } from '../lambdas/connectors/identity-center/provisioner';
import { auditExportCommand } from './audit-export';
import { htmlReportCommand } from './html-report';
import { evalCommand, renderCommand, UsageError } from './eval/cli';
import { compareReports, comparisonTable, readReport } from './eval/compare';

const EVAL_REPORT_FILE = 'eval-report.json';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Whether stderr is a terminal: progress bars redraw in place there. */
  interactive?: boolean;
  /** Resolves when the user asks a long-running command to stop. */
  interrupted(): Promise<void>;
}

const USAGE = `usage: loopgate <command> [options]

commands:
  catalog check [file]   validate the catalog (default ${DEFAULT_CATALOG_FILE}); exit 1 if invalid;
                         warns about an AWS managed policy ARN not in bin/aws-managed-policies.txt
    --live               also ask IAM (GetPolicy) that every managed policy ARN exists (AWS
                         credential chain; LOOPGATE_IAM_ENDPOINT for a sandbox); exit 1 if one does not
  catalog list [file]    list the entitlements: mode, action, durations, approvers
  demo                   four access requests through the real handlers in the sandbox, shown as they
                         happen (routine, risky, 2 approvals, break-glass); a summary and an audit trail
  sandbox                run the local world (stand-ins, DynamoDB Local, Lambda host) until Ctrl-C;
                         the first stdout line is JSON with every URL, secret and credential
  dev                    the seven functions on this machine against the real services (LOOPGATE_*
                         variables, see docs/setup.md), with local queues and schedules; until Ctrl-C;
                         the first stdout line is JSON with the two webhook URLs
    --settings FILE      KEY=VALUE settings (default: .env in the project root, if it exists); the
                         environment wins over the file; every missing setting is listed at once
  eval                   run the evaluation suite (prompts/evals) against the configured model
                         (LOOPGATE_MODEL_*); exit 1 if a case fails
    --replay             use the recorded answers (offline; what CI runs): fails when a case that
                         passed when recorded fails now, or a recording is stale
    --record             ask the model and save its answers as the new recordings
    --sandbox            ask the sandbox's rules model instead (offline, no account)
    --case ID            only this case (repeatable)
    --report FILE        where the JSON report goes (default ${EVAL_REPORT_FILE})
    --min-pass-rate N    live runs: pass when at least this share of cases pass (default 1)
  eval --compare A B     two eval reports (prompt versions) side by side: pass rate by category,
                         agreement, injection approvals, policy recall, tokens, and the cases that
                         flipped; write each with --replay --report FILE on that version
  requests               requests newest first: key, requester, entitlement, state, age, approvers
    --state S            only this state (PENDING, GRANTED, …)
    --requester EMAIL    only this requester's      --entitlement ID   only this entitlement's
    --since DATE         filed on or after DATE (2026-12-01, or an ISO time)
    --limit N            at most N (default 50)
  show KEY               one request (Jira key or request id): decisions, grant, advice, the page as
                         sent, and its whole audit trail
  grants                 who holds what through loopgate now and until when, soonest end first
    --active             only GRANTED (leave out FAILED requests that still hold access)
    --expiring-within D  only grants ending within D (30m, 24h, 7d)
    --verify             read each live grant back from Okta and IAM, and each ended one loopgate made;
                         list drift both ways (recorded but absent; in place with no live request);
                         exit 1 on drift (needs LOOPGATE_OKTA_ORG_URL, LOOPGATE_OKTA_TOKEN (read-only
                         is enough), LOOPGATE_COMPANY_EMAIL_DOMAIN)
                         (requests, show and grants read LOOPGATE_TABLE_NAME with the AWS credential
                         chain, or LOOPGATE_DYNAMODB_ENDPOINT for a sandbox; --json for scripts)
  revoke KEY             end a grant now, through the revoke function (as at expiry); recorded with
    --reason TEXT        your AWS identity (the caller's ARN) and told on the incident and the ticket
  cancel KEY             cancel a request nobody decided yet (RECEIVED, TRIAGING, PENDING); --reason
                         TEXT as for revoke (both need LOOPGATE_REVOKE_QUEUE_URL and
                         LOOPGATE_DECIDE_QUEUE_URL: see docs/setup.md, "Operators")
  audit export           one row per decided request filed in [--since, --until): requester,
                         entitlement, risk tier, times, approvers and how they were authorized, rule
                         or break-glass, the model's advice and whether people agreed, digests, links
    --since DATE         required, like --until (2026-10-01, or an ISO time)
    --format F           csv (RFC 4180, the default) or jsonl
    --out FILE           write FILE (only once complete) instead of stdout
  render CASE            print the exact messages the model receives for an eval case
  report                 agreement between the model and the people who decided, by entitlement
                         and prompt version, and why people disagreed (reads LOOPGATE_TABLE_NAME)
    --html FILE          instead: one self-contained HTML page (inline SVG, loads nothing): time to
                         page, decision and grant; outcomes per entitlement; agreement per prompt
                         version by week; break-glass grants and their reviews; active grants
  export-feedback FILE   decided requests as JSONL chat examples (the prompt, and the people's
                         decision as the answer) for evaluation or fine-tuning
    --limit N            at most N decided requests per entitlement (default 5000)

options:
  --json                 machine-readable output (catalog commands)
  --scenario FILE        the sandbox's scenario (default ${DEFAULT_SCENARIO_FILE})
  --port-base N          fixed sandbox ports N, N+1, … instead of free ones
  -h, --help             show this help
`;

export async function run(argv: string[], io: Io): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    io.err(`loopgate: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, sub, ...rest] = positionals;
  if (values.help || command === undefined) {
    io.out(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  if (command === 'catalog' && (sub === 'check' || sub === 'list') && rest.length <= 1) {
    if (values.live && sub !== 'check') {
      io.err(`loopgate: --live goes with catalog check\n\n${USAGE}`);
      return 2;
    }
    return catalogCommand(
      sub,
      rest[0] ?? DEFAULT_CATALOG_FILE,
      values.json ?? false,
      io,
      values.live ?? false,
    );
  }
  if (command === 'demo' && sub === undefined) {
    // Colour only for a person at a terminal who has not asked for none (https://no-color.org).
    const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
    return demo(io, { color, ...(values.scenario ? { scenarioFile: values.scenario } : {}) });
  }
  if ((command === 'sandbox' || command === 'dev') && sub === undefined) {
    const portBase = values['port-base'] === undefined ? undefined : Number(values['port-base']);
    if (portBase !== undefined && !(Number.isInteger(portBase) && portBase >= 1024 && portBase <= 65_000)) {
      io.err(
        `loopgate: --port-base must be a whole number from 1024 to 65000, got "${values['port-base']}"\n`,
      );
      return 2;
    }
    const envFile = values.settings;
    return command === 'dev'
      ? devCommand(io, {
          ...(portBase === undefined ? {} : { portBase }),
          // The project's .env when it exists; a file named with --settings must exist.
          envFile:
            envFile === undefined
              ? { path: DEFAULT_ENV_FILE, required: false }
              : { path: resolve(envFile), required: true },
        })
      : sandbox(io, { scenarioFile: values.scenario, portBase });
  }
  if (command === 'eval' && values.compare) {
    if (sub === undefined || rest.length !== 1 || values.replay || values.record) {
      io.err('loopgate: eval --compare takes two report files, as in eval --compare a.json b.json\n');
      return 2;
    }
    const [b] = rest as [string];
    return evalGuarded(io, () => {
      const comparison = compareReports(readReport(sub), readReport(b));
      io.out(values.json ? `${JSON.stringify(comparison, null, 2)}\n` : comparisonTable(comparison));
      return Promise.resolve(0);
    });
  }
  if (command === 'eval' && sub === undefined) {
    if (values.replay && values.record) {
      io.err('loopgate: --replay and --record exclude each other\n');
      return 2;
    }
    const minPassRate = values['min-pass-rate'] === undefined ? undefined : Number(values['min-pass-rate']);
    if (minPassRate !== undefined && !(minPassRate >= 0 && minPassRate <= 1)) {
      io.err(`loopgate: --min-pass-rate must be a number from 0 to 1, got "${values['min-pass-rate']}"\n`);
      return 2;
    }
    return evalGuarded(io, () =>
      evalCommand(
        {
          mode: values.replay ? 'replay' : values.record ? 'record' : 'live',
          sandbox: values.sandbox ?? false,
          cases: values.case ?? [],
          json: values.json ?? false,
          report: values.report ?? EVAL_REPORT_FILE,
          ...(minPassRate === undefined ? {} : { minPassRate }),
        },
        { ...io, interactive: io.interactive ?? false },
      ),
    );
  }
  if (command === 'report' && sub === undefined && values.html !== undefined) {
    const file = values.html;
    return operatorGuarded(
      io,
      async () => {
        const env = new Env();
        return htmlReportCommand(
          {
            store: requestStore(readCommonSettings(env)),
            catalog: loadCatalogFile(env.optionalString('LOOPGATE_CATALOG_FILE') ?? DEFAULT_CATALOG_FILE),
          },
          file,
          systemClock.now(),
          io,
        );
      },
      process.env.LOOPGATE_TABLE_NAME,
    );
  }
  if (
    (command === 'report' && sub === undefined) ||
    (command === 'export-feedback' && sub !== undefined && rest.length === 0)
  ) {
    const limit = values.limit === undefined ? 5000 : Number(values.limit);
    if (!(Number.isInteger(limit) && limit >= 1)) {
      io.err(`loopgate: --limit must be a positive whole number, got "${values.limit}"\n`);
      return 2;
    }
    return evalGuarded(io, async () => {
      const env = new Env();
      const deps = {
        store: requestStore(readCommonSettings(env)),
        catalog: loadCatalogFile(env.optionalString('LOOPGATE_CATALOG_FILE') ?? DEFAULT_CATALOG_FILE),
      };
      return command === 'report'
        ? reportCommand(deps, { json: values.json ?? false, limit }, io.out)
        : exportFeedbackCommand(deps, { file: sub ?? '', limit }, io.err);
    });
  }
  if (
    (command === 'requests' && sub === undefined) ||
    (command === 'grants' && sub === undefined) ||
    (command === 'show' && sub !== undefined && rest.length === 0)
  ) {
    const limit = values.limit === undefined ? 50 : Number(values.limit);
    if (!(Number.isInteger(limit) && limit >= 1)) {
      io.err(`loopgate: --limit must be a positive whole number, got "${values.limit}"\n`);
      return 2;
    }
    return operatorGuarded(
      io,
      async () => {
        const env = new Env();
        const settings = readCommonSettings(env);
        const deps = {
          store: requestStore(settings),
          catalog: loadCatalogFile(env.optionalString('LOOPGATE_CATALOG_FILE') ?? DEFAULT_CATALOG_FILE),
          clock: systemClock,
        };
        const json = values.json ?? false;
        if (command === 'show') return showCommand(deps, sub ?? '', { json }, io.out);
        if (command === 'grants' && values.verify) {
          const config = readOperatorVerifyConfig(env);
          const okta = createOktaClient({
            orgUrl: config.okta.orgUrl,
            token: config.okta.token,
            timeoutMs: config.timeoutMs,
            maxRetries: 2,
          });
          const iam = createIamClient({
            region: config.region,
            ...(config.iamEndpoint ? { endpoint: config.iamEndpoint } : {}),
            ...awsCredentials(config),
            timeoutMs: config.timeoutMs,
            maxAttempts: 3,
          });
          const identityCenter = createIdentityCenterClients({
            region: config.identityCenter.region,
            ...(config.identityCenter.endpoint ? { endpoint: config.identityCenter.endpoint } : {}),
            ...awsCredentials(config),
            timeoutMs: config.timeoutMs,
            maxAttempts: 3,
          });
          // Each kind is read back by its own provisioner's `holds`: a new kind adds its line here.
          const verifiers = {
            'aws-identity-center': new IdentityCenterProvisioner({
              clients: identityCenter,
              maxWaitMs: config.identityCenter.maxWaitMs,
              pollMs: config.identityCenter.pollMs,
            }),
            'okta-group': new OktaGroupProvisioner({ client: okta }),
            'aws-iam-policy': new IamPolicyProvisioner({
              client: iam,
              principalFor: companyPrincipalFor(config.companyEmailDomain),
            }),
          };
          return verifyGrantsCommand({ ...deps, verifiers }, { json }, io.out);
        }
        if (command === 'grants') {
          return grantsCommand(
            deps,
            {
              active: values.active ?? false,
              json,
              ...(values['expiring-within'] ? { expiringWithin: values['expiring-within'] } : {}),
            },
            io.out,
          );
        }
        return requestsCommand(
          deps,
          {
            limit,
            json,
            ...(values.state ? { state: values.state } : {}),
            ...(values.requester ? { requester: values.requester } : {}),
            ...(values.entitlement ? { entitlement: values.entitlement } : {}),
            ...(values.since ? { since: values.since } : {}),
          },
          io.out,
        );
      },
      process.env.LOOPGATE_TABLE_NAME,
    );
  }
  if ((command === 'revoke' || command === 'cancel') && sub !== undefined && rest.length === 0) {
    return operatorGuarded(
      io,
      async () => {
        const config = readOperatorActionConfig(new Env());
        const deps = {
          store: requestStore(config, config.timeoutMs),
          queue: sqsWorkQueue(config, config.timeoutMs, {
            revoke: config.revokeQueueUrl,
            decide: config.decideQueueUrl,
          }),
          settings: { jiraStatuses: config.jiraStatuses },
          identity: () =>
            callerIdentity({
              region: config.region,
              ...(config.stsEndpoint ? { endpoint: config.stsEndpoint } : {}),
              ...awsCredentials(config),
              timeoutMs: config.timeoutMs,
            }),
        };
        return actCommand(
          deps,
          command,
          sub,
          { json: values.json ?? false, ...(values.reason === undefined ? {} : { reason: values.reason }) },
          io.out,
        );
      },
      process.env.LOOPGATE_TABLE_NAME,
    );
  }
  if (command === 'audit' && sub === 'export' && rest.length === 0) {
    return operatorGuarded(
      io,
      async () => {
        if (values.since === undefined || values.until === undefined) {
          throw new OperatorInputError('audit export needs --since DATE and --until DATE');
        }
        const since = dateOf('--since', values.since);
        const until = dateOf('--until', values.until);
        const format = values.format ?? 'csv';
        if (format !== 'csv' && format !== 'jsonl') {
          throw new OperatorInputError(`--format must be csv or jsonl, got "${format}"`);
        }
        const env = new Env();
        const jiraBaseUrl = env.optionalUrl('LOOPGATE_JIRA_BASE_URL');
        return auditExportCommand(
          {
            store: requestStore(readCommonSettings(env)),
            catalog: loadCatalogFile(env.optionalString('LOOPGATE_CATALOG_FILE') ?? DEFAULT_CATALOG_FILE),
            ...(jiraBaseUrl ? { jiraBaseUrl } : {}),
          },
          {
            since,
            until,
            format,
            ...(values.out ? { out: values.out } : {}),
            ...(values.entitlement ? { entitlements: [values.entitlement] } : {}),
          },
          io,
        );
      },
      process.env.LOOPGATE_TABLE_NAME,
    );
  }
  if (command === 'render' && sub !== undefined && rest.length === 0) {
    return evalGuarded(io, () => renderCommand(sub, values.json ?? false, { ...io, interactive: false }));
  }
  io.err(`loopgate: unknown command "${positionals.join(' ')}"\n\n${USAGE}`);
  return 2;
}

/**
 * The operator's commands: bad input, missing settings or credentials, and a table that does not
 * exist each get one line and exit 2; anything else is a crash.
 */
async function operatorGuarded(
  io: Io,
  command: () => Promise<number>,
  tableName: string | undefined,
): Promise<number> {
  try {
    return await command();
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    const message =
      error instanceof OperatorInputError ||
      error instanceof ConfigurationError ||
      error instanceof CatalogError
        ? (error as Error).message
        : name === 'ResourceNotFoundException'
          ? `the table "${tableName}" does not exist in this account and region (LOOPGATE_TABLE_NAME, AWS_REGION)`
          : name === 'CredentialsProviderError' ||
              name === 'ExpiredTokenException' ||
              name === 'ExpiredToken' ||
              name === 'InvalidClientTokenId' ||
              name === 'UnrecognizedClientException'
            ? `no usable AWS credentials (${(error as Error).message}); use the credential chain the AWS CLI uses`
            : undefined;
    if (message === undefined) throw error;
    io.err(`loopgate: ${message}\n`);
    return 2;
  }
}

/** Bad arguments exit 2 and bad case files exit 1, each with its message; anything else is a crash. */
async function evalGuarded(io: Io, command: () => number | Promise<number>): Promise<number> {
  try {
    return await command();
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`loopgate: ${error.message}\n`);
      return 2;
    }
    if (
      error instanceof EvalCaseError ||
      error instanceof ConfigurationError ||
      error instanceof CatalogError
    ) {
      io.err(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      live: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      scenario: { type: 'string' },
      'port-base': { type: 'string' },
      settings: { type: 'string' },
      replay: { type: 'boolean' },
      record: { type: 'boolean' },
      compare: { type: 'boolean' },
      sandbox: { type: 'boolean' },
      case: { type: 'string', multiple: true },
      report: { type: 'string' },
      'min-pass-rate': { type: 'string' },
      limit: { type: 'string' },
      state: { type: 'string' },
      requester: { type: 'string' },
      entitlement: { type: 'string' },
      since: { type: 'string' },
      active: { type: 'boolean' },
      verify: { type: 'boolean' },
      'expiring-within': { type: 'string' },
      reason: { type: 'string' },
      until: { type: 'string' },
      format: { type: 'string' },
      out: { type: 'string' },
      html: { type: 'string' },
    },
  });
}

async function catalogCommand(
  sub: 'check' | 'list',
  file: string,
  json: boolean,
  io: Io,
  live = false,
): Promise<number> {
  let catalog: Catalog;
  try {
    catalog = loadCatalogFile(file);
  } catch (error) {
    if (!(error instanceof CatalogError)) throw error;
    if (json) io.out(`${JSON.stringify({ ok: false, file, problems: error.problems }, null, 2)}\n`);
    else io.err(`${error.message}\n`);
    return 1;
  }
  if (sub === 'check') {
    const count = catalog.entitlements.length;
    const problems = await policyProblems(catalog, file, live);
    const errors = problems.filter((p) => p.severity === 'error').map((p) => p.text);
    const warnings = problems.filter((p) => p.severity === 'warning').map((p) => p.text);
    if (json) {
      io.out(
        `${JSON.stringify({ ok: errors.length === 0, file, entitlements: count, ...(warnings.length ? { warnings } : {}), ...(errors.length ? { problems: errors } : {}) })}\n`,
      );
    } else {
      for (const text of [...errors, ...warnings]) io.err(`${text}\n`);
      if (errors.length === 0) {
        const noted = warnings.length
          ? ` (${warnings.length} warning${warnings.length === 1 ? '' : 's'})`
          : '';
        io.out(`${file}: valid, ${count} entitlements${noted}\n`);
      }
    }
    return errors.length ? 1 : 0;
  } else {
    io.out(
      json ? `${JSON.stringify(catalog.entitlements, null, 2)}\n` : entitlementTable(catalog.entitlements),
    );
  }
  return 0;
}

/** The managed policy ARNs checked against the offline list, and against IAM with --live. */
async function policyProblems(catalog: Catalog, file: string, live: boolean): Promise<PolicyProblem[]> {
  const refs = managedPolicyArnsOf(catalog);
  const where = locatorOf(file, readFileSync(file, 'utf8'));
  const offline = checkOffline(refs, awsManagedPolicyNames(), where);
  if (!live || refs.length === 0) return offline;
  const env = new Env();
  const endpoint = env.optionalUrl('LOOPGATE_IAM_ENDPOINT');
  const accessKeyId = env.optionalString('LOOPGATE_SANDBOX_AWS_ACCESS_KEY_ID');
  const iam = createIamClient({
    // IAM is global; the SDK still wants a region to sign for.
    region: env.optionalString('AWS_REGION') ?? 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    ...(accessKeyId
      ? {
          credentials: {
            accessKeyId,
            secretAccessKey: env.string('LOOPGATE_SANDBOX_AWS_SECRET_ACCESS_KEY'),
          },
        }
      : {}),
    timeoutMs: 5000,
    maxAttempts: 3,
  });
  try {
    // Once IAM has answered, the offline list has nothing to add.
    return await checkLive(refs, iam, where);
  } finally {
    iam.destroy();
  }
}

function entitlementTable(entitlements: Entitlement[]): string {
  const rows = entitlements.map((e) => [
    e.id,
    e.riskTier,
    e.mode,
    e.action.kind,
    `${formatDuration(e.duration.default)} / ${formatDuration(e.duration.max)}`,
    approversText(e),
    e.breakGlass.allowed ? `yes, ${formatDuration(e.breakGlass.maxDuration)}` : 'no',
  ]);
  const header = ['ENTITLEMENT', 'RISK', 'MODE', 'ACTION', 'DEFAULT / MAX', 'APPROVERS', 'BREAK-GLASS'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return `${[header, ...rows]
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

function approversText(e: Entitlement): string {
  if (e.mode === 'audit-only') return '(none: audit-only)';
  const who = [
    e.approvers?.onCall ? `on-call ${e.owners.escalationPolicy}` : undefined,
    ...(e.approvers?.emails ?? []),
    e.approvers?.oktaGroup ? `group ${e.approvers.oktaGroup}` : undefined,
  ].filter(Boolean);
  return `${e.approvalsRequired} of ${who.join(', ')}`;
}

/**
 * Runs the sandbox until interrupted. Stdout's first line is the JSON summary for scripts;
 * progress goes to stderr; a short human guide follows the JSON on stdout.
 */
async function sandbox(io: Io, options: { scenarioFile?: string; portBase?: number }): Promise<number> {
  const progress = (line: string) => io.err(`sandbox: ${line}\n`);
  const world = await Sandbox.start({ ...options, progress, sweeper: true });
  try {
    const summary = world.summary();
    io.out(`${JSON.stringify(summary)}\n`);
    const width = Math.max(...Object.keys(summary.services).map((k) => k.length));
    io.out(
      [
        '',
        `loopgate sandbox: ${world.scenario.company.name}, ${world.scenario.people.length} people, clock at ${world.clock.now().toISOString()}`,
        ...Object.entries(summary.services).map(([name, url]) => `  ${name.padEnd(width)}  ${url}`),
        `  control   ${summary.control}   (GET / lists what it can do)`,
        '',
        'File a ticket as Dana and look at the world:',
        `  curl -s -X POST ${summary.control}/jira/tickets -d '{"reporter":"dana","entitlement":"okta-prod-readonly","duration":"4h","justification":"INC-4411"}'`,
        `  curl -s ${summary.control}/state/jira`,
        'Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
    await io.interrupted();
    progress('stopping …');
    return 0;
  } finally {
    await world.stop();
    progress('stopped');
  }
}

const invokedDirectly =
  process.argv[1] !== undefined &&
  realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));

if (invokedDirectly) {
  // A reader that goes away (`… | head -1`) must not crash the sandbox mid-run.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  // Listen from the first moment, so a signal during startup still stops what was started.
  const stopRequested = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  const io: Io = {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    interactive: process.stderr.isTTY === true,
    interrupted: () => stopRequested,
  };
  run(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`loopgate: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
