// The loopgate command line: check and list the catalog, run the local sandbox.
// Output for people is plain text; `--json` gives output for scripts.

import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type Catalog, CatalogError, type Entitlement } from '../lambdas/core/catalog';
import { formatDuration } from '../lambdas/core/duration';
import { loadCatalogFile } from '../lambdas/platform/catalog-file';
import { DEFAULT_CATALOG_FILE } from '../lib/loopgate-app';
import { DEFAULT_SCENARIO_FILE } from '../sandbox/scenario/load';
import { Sandbox } from '../sandbox/world';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Resolves when the user asks a long-running command to stop. */
  interrupted(): Promise<void>;
}

const USAGE = `usage: loopgate <command> [options]

commands:
  catalog check [file]   validate the catalog (default ${DEFAULT_CATALOG_FILE}); exit 1 if invalid
  catalog list [file]    list the entitlements: mode, action, durations, approvers
  sandbox                run the local world (stand-ins, DynamoDB Local, Lambda host) until Ctrl-C;
                         the first stdout line is JSON with every URL, secret and credential

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
    return catalogCommand(sub, rest[0] ?? DEFAULT_CATALOG_FILE, values.json ?? false, io);
  }
  if (command === 'sandbox' && sub === undefined) {
    const portBase = values['port-base'] === undefined ? undefined : Number(values['port-base']);
    if (portBase !== undefined && !(Number.isInteger(portBase) && portBase >= 1024 && portBase <= 65_000)) {
      io.err(
        `loopgate: --port-base must be a whole number from 1024 to 65000, got "${values['port-base']}"\n`,
      );
      return 2;
    }
    return sandbox(io, { scenarioFile: values.scenario, portBase });
  }
  io.err(`loopgate: unknown command "${positionals.join(' ')}"\n\n${USAGE}`);
  return 2;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      scenario: { type: 'string' },
      'port-base': { type: 'string' },
    },
  });
}

function catalogCommand(sub: 'check' | 'list', file: string, json: boolean, io: Io): number {
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
    io.out(
      json
        ? `${JSON.stringify({ ok: true, file, entitlements: count })}\n`
        : `${file}: valid, ${count} entitlements\n`,
    );
  } else {
    io.out(
      json ? `${JSON.stringify(catalog.entitlements, null, 2)}\n` : entitlementTable(catalog.entitlements),
    );
  }
  return 0;
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
  const world = await Sandbox.start({ ...options, progress });
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
  // The lock file pins AWS SDK versions that run on Node 20; their notice about 2027 is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
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
