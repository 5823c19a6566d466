// `loopgate dev`: the seven functions on this machine, against the real services.
// The handlers are the deployed ones; only Lambda, SQS and EventBridge Scheduler
// are local (the sandbox's host), so there is nothing to deploy to try a change.
// Configuration is the functions' own: every LOOPGATE_* variable, read by the
// same readers as in Lambda (see docs/setup.md and lambdas/platform/env.ts), from
// the environment and a `.env`-style file (the environment wins). Every missing or
// invalid setting is reported at once, never a value.

import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { createTableInput } from '../lambdas/connectors/dynamodb/create-table';
import { ConfigurationError } from '../lambdas/core/errors';
import { Env, readCommonSettings } from '../lambdas/platform/env';
import { SandboxClock } from '../sandbox/clock';
import { PROJECT_ROOT } from '../lib/functions';
import {
  hostEnvironment,
  loopgateHost,
  scheduleSweeper,
  settingsProblems,
  WEBHOOK_FUNCTIONS,
} from '../sandbox/loopgate-host';
import { EnvFileError, readEnvFile } from './env-file';
import type { Io } from './loopgate';

/** Any SigV4 credentials do for the local SQS and Scheduler; AWS itself gets the default chain's. */
const LOCAL_ONLY = { accessKeyId: 'local', secretAccessKey: 'local' };

/** Where `loopgate dev` looks for settings when not told: `.env` in the project root. */
export const DEFAULT_ENV_FILE = join(PROJECT_ROOT, '.env');

export async function devCommand(
  io: Io,
  options: {
    portBase?: number;
    environment?: NodeJS.ProcessEnv;
    /** A `.env`-style file of settings; `required`: a missing file is an error (--settings). */
    envFile?: { path: string; required: boolean };
    /** Where the functions' JSON log lines go; stdout, as in Lambda, unless set. */
    log?: (line: string) => void;
  } = {},
): Promise<number> {
  let fromFile: Record<string, string> = {};
  if (options.envFile) {
    try {
      const read = readEnvFile(options.envFile.path, options.envFile.required);
      if (read) {
        fromFile = read;
        io.err(`loopgate dev: read ${Object.keys(read).length} settings from ${options.envFile.path}\n`);
      }
    } catch (error) {
      if (!(error instanceof EnvFileError)) throw error;
      io.err(`loopgate dev: ${error.message}\n`);
      return 2;
    }
  }
  const given = {
    ...fromFile,
    ...Object.fromEntries(
      Object.entries(options.environment ?? process.env).filter(
        (e): e is [string, string] => e[1] !== undefined,
      ),
    ),
  };
  const base = options.portBase;
  const { host, serve } = loopgateHost(
    new SandboxClock(),
    base === undefined ? {} : { functionUrls: base, sqs: base + 1, scheduler: base + 2 },
  );
  await host.start();
  try {
    // The local Scheduler assumes no role; the ARN only has to be well formed.
    const env = { ...given, ...hostEnvironment(host, '000000000000') };
    const problems = settingsProblems(env);
    if (problems.length > 0) {
      io.err(
        [
          `loopgate dev: ${problems.length} ${problems.length === 1 ? 'setting is' : 'settings are'} missing or invalid:`,
          ...problems.map((problem) => `  ${problem}`),
          `Set them in the environment or in ${options.envFile?.path ?? 'a .env file'} (KEY=VALUE lines; --settings FILE`,
          'reads another file), see docs/setup.md, "Running the functions locally", and try again.',
          '',
        ].join('\n'),
      );
      return 2;
    }
    try {
      serve(env, options.log ? { log: options.log } : {});
    } catch (error) {
      if (!(error instanceof ConfigurationError)) throw error;
      io.err(`loopgate dev: ${error.message}\n`);
      return 2;
    }
    const { dynamoDbEndpoint, tableName } = readCommonSettings(new Env(env));
    if (dynamoDbEndpoint) await ensureLocalTable(dynamoDbEndpoint, tableName);
    await scheduleSweeper(host, env, LOCAL_ONLY);

    const webhooks = {
      jira: `${host.urls.functionUrls}/${WEBHOOK_FUNCTIONS.jira}`,
      pagerduty: `${host.urls.functionUrls}/${WEBHOOK_FUNCTIONS.pagerduty}`,
    };
    io.out(`${JSON.stringify({ webhooks, lambda: host.urls })}\n`);
    io.err(
      [
        'loopgate dev: the seven functions run here, against the services your LOOPGATE_* variables name.',
        `  Jira webhook       ${webhooks.jira}`,
        `  PagerDuty webhook  ${webhooks.pagerduty}`,
        'Expose these through a tunnel (e.g. `cloudflared tunnel --url <the URL>`) and point the',
        'Jira and PagerDuty webhooks at it. Queues, schedules and the sweeper (every 5 minutes) are local',
        'and end with this process; grants carry their own expiry. Ctrl-C stops.',
        '',
      ].join('\n'),
    );
    await io.interrupted();
    return 0;
  } finally {
    await host.stop();
  }
}

/** DynamoDB Local starts empty; a deployed table is the stack's business and is never created here. */
async function ensureLocalTable(endpoint: string, tableName: string): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: 'local', credentials: LOCAL_ONLY });
  try {
    await client.send(new CreateTableCommand(createTableInput(tableName)));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  } finally {
    client.destroy();
  }
}
