// StepUp on Okta: proves a decision is the person's own by sending an Okta
// Verify push to their enrolled device and reading its answer. Built on the
// SDK's UserFactorApi (listFactors, verifyFactor, getFactorTransactionStatus);
// every response is validated before it is trusted and every failure becomes
// an UpstreamError or NotFoundError (errors.ts).
//
// What Okta's management API says (okta-management-openapi-spec, UserFactor):
// - verifyFactor on a `push` factor without a body sends the push and answers
//   201 with factorResult WAITING and a `_links.poll.href` to
//   /api/v1/users/{userId}/factors/{factorId}/transactions/{transactionId};
// - getFactorTransactionStatus answers WAITING, SUCCESS, REJECTED or TIMEOUT.

import type okta from '@okta/okta-sdk-nodejs';
import { z } from 'zod';
import { NotFoundError, UpstreamError } from '../../core/errors';
import type { PushChallenge, PushResult, StepUp } from '../../core/ports';
import { callOkta } from './errors';

export interface OktaStepUpOptions {
  /** Built by createOktaClient (timeouts, retries, no cache). */
  client: okta.Client;
}

const factorShape = z.object({
  id: z.string().min(1),
  factorType: z.string().min(1),
  provider: z.string().nullish(),
  status: z.string().min(1),
});

const challengeShape = z.object({
  factorResult: z.literal('WAITING'),
  _links: z.object({ poll: z.object({ href: z.string().min(1) }) }),
});

const transactionShape = z.object({ factorResult: z.string().min(1) });

const RESULTS: Record<string, PushResult> = {
  WAITING: 'waiting',
  SUCCESS: 'accepted',
  REJECTED: 'rejected',
  TIMEOUT: 'timed-out',
};

/** Okta user and factor ids: letters and digits. */
const OKTA_ID = /^[A-Za-z0-9]{1,64}$/;
/** Push transaction ids: letters, digits and single dots, dashes or underscores (e.g. `v2mst.GldKV5VxTr…`). */
const TRANSACTION_ID = /^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$/;
const MAX_TRANSACTION_ID = 128;
/** A person has a handful of factors; a longer list means a broken server. */
const MAX_FACTORS = 100;

export class OktaStepUp implements StepUp {
  private readonly client: okta.Client;

  constructor(options: OktaStepUpOptions) {
    this.client = options.client;
  }

  /** Sends a push to the user's ACTIVE Okta Verify push factor; undefined when they have none. */
  async push(userId: string): Promise<PushChallenge | undefined> {
    assertId(userId, OKTA_ID, 'user id');
    const factors = await callOkta(`listing the factors of user ${userId}`, async () => {
      const listed: z.infer<typeof factorShape>[] = [];
      for await (const item of await this.client.userFactorApi.listFactors({ userId })) {
        if (item === null) continue;
        listed.push(factorShape.parse(item));
        if (listed.length >= MAX_FACTORS) break;
      }
      return listed;
    });
    const factor = factors.find(
      (f) => f.factorType === 'push' && f.provider === 'OKTA' && f.status === 'ACTIVE' && OKTA_ID.test(f.id),
    );
    if (!factor) return undefined;

    const factorId = factor.id;
    const challenge = await callOkta(`sending a push to user ${userId}`, async () =>
      challengeShape.parse(await this.client.userFactorApi.verifyFactor({ userId, factorId })),
    );
    const transactionId = transactionIdOf(challenge._links.poll.href, userId, factorId);
    return { factorId, transactionId };
  }

  /** The push's answer so far. */
  async result(userId: string, challenge: PushChallenge): Promise<PushResult> {
    assertId(userId, OKTA_ID, 'user id');
    assertId(challenge.factorId, OKTA_ID, 'factor id');
    assertId(challenge.transactionId, TRANSACTION_ID, 'push transaction id');
    const { factorId, transactionId } = challenge;
    const transaction = await callOkta(`reading push ${transactionId} of user ${userId}`, async () =>
      transactionShape.parse(
        await this.client.userFactorApi.getFactorTransactionStatus({ userId, factorId, transactionId }),
      ),
    );
    const result = RESULTS[transaction.factorResult];
    if (!result) {
      throw new UpstreamError(
        'okta',
        'bad-response',
        `reading push ${transactionId} of user ${userId}: unexpected factorResult ${JSON.stringify(
          transaction.factorResult.slice(0, 50),
        )}`,
      );
    }
    return result;
  }
}

/**
 * The transaction id at the end of the poll link, which must be this user's and factor's transaction
 * (Okta says to follow the link rather than build the URL; its last segment is the id).
 */
function transactionIdOf(href: string, userId: string, factorId: string): string {
  let path: string;
  try {
    path = new URL(href).pathname;
  } catch {
    throw badPoll('the poll link is not a URL');
  }
  const prefix = `/api/v1/users/${userId}/factors/${factorId}/transactions/`;
  if (!path.startsWith(prefix)) throw badPoll('the poll link is not for this user and factor');
  let transactionId: string;
  try {
    transactionId = decodeURIComponent(path.slice(prefix.length));
  } catch {
    throw badPoll('the poll link does not end in a transaction id');
  }
  if (transactionId.length > MAX_TRANSACTION_ID || !TRANSACTION_ID.test(transactionId)) {
    throw badPoll('the poll link does not end in a transaction id');
  }
  return transactionId;
}

function badPoll(reason: string): UpstreamError {
  return new UpstreamError('okta', 'bad-response', `sending a push: ${reason}`);
}

/** Ids go into URL paths, where `..` or an empty id would reach another endpoint: refused before a call. */
function assertId(value: string, pattern: RegExp, kind: string): void {
  if (value.length > MAX_TRANSACTION_ID || !pattern.test(value)) {
    throw new NotFoundError(`okta: ${JSON.stringify(value)} is not an Okta ${kind}`);
  }
}
