// The AWS STS stand-in: GetCallerIdentity over STS's Query API (form-encoded
// `POST /` with `Action` and `Version=2011-06-15`, XML answers), so the real
// @aws-sdk/client-sts learns who an access key belongs to, as the operator's
// commands do to record who acted. Requests must carry a valid SigV4
// signature scoped to `sts` from a known access key; errors are STS's
// `<ErrorResponse>` with its codes.

import { createHash, randomUUID } from 'node:crypto';
import type { SandboxClock } from '../clock';
import { HttpStandIn, type StandInRequest, type StandInResponse } from '../http/stand-in';
import { IamError, serviceFailure, throttling } from '../iam/errors';
import { parseAuthorization, signedRequestOf, verifySignature } from '../iam/sigv4';
import { escapeXml } from '../iam/xml';

export const STS_API_VERSION = '2011-06-15';
const STS_XMLNS = `https://sts.amazonaws.com/doc/${STS_API_VERSION}/`;

/** An access key and the identity it belongs to: an IAM user's or an assumed role session's ARN. */
export interface StsIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  arn: string;
}

export class StsStandIn extends HttpStandIn {
  private readonly identities: Map<string, StsIdentity>;

  constructor(options: { clock: SandboxClock; identities: readonly StsIdentity[] }) {
    super('sts', options.clock);
    this.identities = new Map(options.identities.map((i) => [i.accessKeyId, i]));
    this.route('POST', '/', (request) => this.handleAction(request));
  }

  protected authenticate(request: StandInRequest): StandInResponse | undefined {
    const header = request.headers.authorization;
    try {
      if (!header) {
        throw new IamError('MissingAuthenticationToken', 403, 'Request is missing Authentication Token');
      }
      const auth = parseAuthorization(header);
      const identity = this.identities.get(auth.accessKeyId);
      if (!identity) {
        throw new IamError(
          'InvalidClientTokenId',
          403,
          'The security token included in the request is invalid.',
        );
      }
      verifySignature(signedRequestOf(request), auth, identity.secretAccessKey, 'sts');
      return undefined;
    } catch (error) {
      if (error instanceof IamError) return errorResponse(error);
      throw error;
    }
  }

  protected faultResponse(status: number): StandInResponse {
    return errorResponse(status === 429 || status === 400 ? throttling() : serviceFailure());
  }

  protected routeNotFound(request: StandInRequest): StandInResponse {
    return errorResponse(
      new IamError('InvalidAction', 400, `Could not find operation for ${request.method} ${request.path}`),
    );
  }

  protected malformedBody(message: string): StandInResponse {
    return errorResponse(new IamError('MalformedQueryString', 404, message));
  }

  state() {
    return {
      identities: [...this.identities.values()].map((i) => ({ accessKeyId: i.accessKeyId, arn: i.arn })),
    };
  }

  private handleAction(request: StandInRequest): StandInResponse {
    const form = new URLSearchParams(request.rawBody.toString('utf8'));
    const action = form.get('Action') ?? '';
    const version = form.get('Version');
    if (version !== STS_API_VERSION) {
      return errorResponse(
        new IamError(
          'InvalidAction',
          400,
          `Could not find operation ${action} for version ${version ?? 'NO_VERSION_SPECIFIED'}`,
        ),
      );
    }
    if (action !== 'GetCallerIdentity') {
      return errorResponse(
        new IamError('InvalidAction', 400, `Could not find operation ${action} for version ${version}`),
      );
    }
    const auth = parseAuthorization(String(request.headers.authorization));
    const identity = this.identities.get(auth.accessKeyId) as StsIdentity;
    const requestId = randomUUID();
    const result =
      `<Arn>${escapeXml(identity.arn)}</Arn>` +
      `<UserId>${escapeXml(userIdOf(identity))}</UserId>` +
      `<Account>${escapeXml(identity.arn.split(':')[4] ?? '')}</Account>`;
    return xml(
      200,
      `<GetCallerIdentityResponse xmlns="${STS_XMLNS}"><GetCallerIdentityResult>${result}</GetCallerIdentityResult>` +
        `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
      requestId,
    );
  }
}

/**
 * STS's UserId: the user's unique id (AIDA…) for an IAM user; the role's unique id (AROA…) and the
 * session name for an assumed role. Derived from the ARN, so it is stable across runs.
 */
function userIdOf(identity: StsIdentity): string {
  const resource = identity.arn.split(':').slice(5).join(':');
  const unique = (prefix: string, of: string) =>
    `${prefix}${createHash('sha256').update(of).digest('hex').slice(0, 17).toUpperCase()}`;
  const assumed = /^assumed-role\/([^/]+)\/(.+)$/.exec(resource);
  if (assumed) return `${unique('AROA', assumed[1] ?? '')}:${assumed[2]}`;
  return unique('AIDA', resource);
}

function errorResponse(error: IamError): StandInResponse {
  const requestId = randomUUID();
  return xml(
    error.status,
    `<ErrorResponse xmlns="${STS_XMLNS}"><Error><Type>${error.type}</Type>` +
      `<Code>${escapeXml(error.code)}</Code><Message>${escapeXml(error.message)}</Message></Error>` +
      `<RequestId>${requestId}</RequestId></ErrorResponse>`,
    requestId,
  );
}

function xml(status: number, body: string, requestId: string): StandInResponse {
  return {
    status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n${body}`,
  };
}
