// Starts the real DynamoDB engine (DynamoDB Local, the AWS jar shipped inside the
// npm package amplify-dynamodb-simulator) on a free loopback port, in memory.
// Used by the test suite's global setup and by the sandbox.

import { type ChildProcess, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

export interface DynamoDbLocal {
  endpoint: string;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 60_000;

function emulatorDirectory(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
}

/** Starts on `port`, or on a free one when it is 0 or absent. */
export async function startDynamoDbLocal(port = 0): Promise<DynamoDbLocal> {
  port ||= await freePort();
  const dir = emulatorDirectory();
  const output: string[] = [];
  const java = spawn(
    'java',
    [
      `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
      '-Xmx512m',
      '-jar',
      join(dir, 'DynamoDBLocal.jar'),
      '-inMemory',
      // One database for every access key and region: loopgate's functions and the sandbox sign differently.
      '-sharedDb',
      '-port',
      String(port),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // If this process ends without stop() (a crash, an uncaught error), Java must not outlive it.
  const killJava = () => java.kill('SIGKILL');
  process.once('exit', killJava);
  java.once('exit', () => process.removeListener('exit', killJava));
  java.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  java.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));

  const exited = new Promise<never>((_, reject) => {
    java.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'ENOENT'
          ? new Error(
              'DynamoDB Local needs Java 17 or newer on the PATH (Debian: apt-get install openjdk-17-jre-headless)',
            )
          : error,
      ),
    );
    java.once('exit', (code) =>
      reject(new Error(`DynamoDB Local exited with code ${code} before it was ready:\n${output.join('')}`)),
    );
  });
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await Promise.race([waitUntilReady(endpoint), exited]);
  } catch (error) {
    await stopProcess(java);
    throw error;
  }
  exited.catch(() => {}); // after a clean start, the exit at stop() is expected
  return { endpoint, stop: () => stopProcess(java) };
}

/** Any region and dummy credentials: DynamoDB Local accepts whatever is signed. */
export function localClientConfig(endpoint: string) {
  return {
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
}

async function waitUntilReady(endpoint: string): Promise<void> {
  const client = new DynamoDBClient({ ...localClientConfig(endpoint), maxAttempts: 1 });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  try {
    for (;;) {
      try {
        await client.send(new ListTablesCommand({}));
        return;
      } catch (error) {
        if (Date.now() > deadline)
          throw new Error(`DynamoDB Local did not answer on ${endpoint}`, { cause: error });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    client.destroy();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
