// Who is calling AWS: STS GetCallerIdentity (which needs no permission), so an
// operator's command records the caller's ARN as its actor, never a name
// they type.

import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { awsClientConfig } from '../aws-client';

export interface CallerIdentity {
  arn: string;
  account: string;
  userId: string;
}

export async function callerIdentity(options: {
  region: string;
  /** The sandbox stand-in; the regional endpoint when absent. */
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  timeoutMs: number;
}): Promise<CallerIdentity> {
  const client = new STSClient(awsClientConfig({ ...options, maxAttempts: 3 }));
  try {
    const answer = await client.send(new GetCallerIdentityCommand({}));
    if (!answer.Arn || !answer.Account || !answer.UserId) {
      throw new Error('STS GetCallerIdentity answered without Arn, Account or UserId');
    }
    return { arn: answer.Arn, account: answer.Account, userId: answer.UserId };
  } finally {
    client.destroy();
  }
}
