// Contract tests of the AWS STS stand-in through the real @aws-sdk/client-sts
// over HTTP, as the AWS Security Token Service API Reference describes
// GetCallerIdentity (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html:
// Account, Arn and UserId; for an assumed role the UserId is the role's unique
// id and the session name) and its Common Errors (InvalidClientTokenId,
// SignatureDoesNotMatch, MissingAuthenticationToken), SigV4-signed for `sts`.

import { GetCallerIdentityCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SandboxClock } from '../../sandbox/clock';
import { type StsIdentity, StsStandIn } from '../../sandbox/sts/stand-in';

const ACCOUNT = '111122223333';
const USER: StsIdentity = {
  accessKeyId: 'AKIASANDBOXOPERATOR1',
  secretAccessKey: 'sandbox/secret+key/for-the-sts-stand-in',
  arn: `arn:aws:iam::${ACCOUNT}:user/ops-alice`,
};
const SESSION: StsIdentity = {
  accessKeyId: 'ASIASANDBOXOPERATOR2',
  secretAccessKey: 'another/secret+key',
  arn: `arn:aws:sts::${ACCOUNT}:assumed-role/LoopgateOperator/priya.nair@example.com`,
};

let standIn: StsStandIn;
const clients: STSClient[] = [];

beforeEach(async () => {
  standIn = new StsStandIn({ clock: new SandboxClock({ start: new Date() }), identities: [USER, SESSION] });
  await standIn.start();
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await standIn.stop();
});

function sts(credentials: { accessKeyId: string; secretAccessKey: string }): STSClient {
  const client = new STSClient({ endpoint: standIn.url, region: 'us-east-1', credentials, maxAttempts: 1 });
  clients.push(client);
  return client;
}

describe('GetCallerIdentity', () => {
  it('names the IAM user a key belongs to: its ARN, account and unique id', async () => {
    const answer = await sts(USER).send(new GetCallerIdentityCommand({}));
    expect(answer.Arn).toBe(USER.arn);
    expect(answer.Account).toBe(ACCOUNT);
    expect(answer.UserId).toMatch(/^AIDA[0-9A-F]{17}$/);
    expect(answer.$metadata.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('names an assumed role session: the role’s unique id and the session name', async () => {
    const answer = await sts(SESSION).send(new GetCallerIdentityCommand({}));
    expect(answer.Arn).toBe(SESSION.arn);
    expect(answer.UserId).toMatch(/^AROA[0-9A-F]{17}:priya\.nair@example\.com$/);
  });

  it('refuses a key it does not know with InvalidClientTokenId (403)', async () => {
    const error = await sts({ accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'x' })
      .send(new GetCallerIdentityCommand({}))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(STSServiceException);
    expect((error as STSServiceException).name).toBe('InvalidClientTokenId');
    expect((error as STSServiceException).$metadata.httpStatusCode).toBe(403);
  });

  it('refuses a request signed with the wrong secret with SignatureDoesNotMatch (403)', async () => {
    const error = await sts({ accessKeyId: USER.accessKeyId, secretAccessKey: 'not-the-secret' })
      .send(new GetCallerIdentityCommand({}))
      .catch((e: unknown) => e);
    expect((error as STSServiceException).name).toBe('SignatureDoesNotMatch');
    expect((error as STSServiceException).message).toMatch(/signature we calculated does not match/);
  });

  it('refuses an unsigned request with MissingAuthenticationToken in STS’s XML error shape', async () => {
    const response = await fetch(`${standIn.url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'Action=GetCallerIdentity&Version=2011-06-15',
    });
    expect(response.status).toBe(403);
    const body = await response.text();
    expect(body).toContain('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">');
    expect(body).toContain('<Code>MissingAuthenticationToken</Code>');
    expect(body).toMatch(/<RequestId>[0-9a-f-]{36}<\/RequestId>/);
  });
});
