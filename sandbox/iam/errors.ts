// IAM's error vocabulary: the codes, HTTP statuses and wording the real service
// answers with, so the SDK maps each to its typed exception
// (NoSuchEntity → NoSuchEntityException, LimitExceeded → LimitExceededException…).

export type ErrorType = 'Sender' | 'Receiver';

export class IamError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly type: ErrorType = status >= 500 ? 'Receiver' : 'Sender',
  ) {
    super(message);
    this.name = 'IamError';
  }
}

export const noSuchEntity = (message: string) => new IamError('NoSuchEntity', 404, message);
export const limitExceeded = (message: string) => new IamError('LimitExceeded', 409, message);
export const malformedPolicyDocument = (message: string) =>
  new IamError('MalformedPolicyDocument', 400, message);
/** AWS's own roles (Identity Center's AWSReservedSSO_*, service-linked roles) refuse every change, with HTTP 400. */
export const unmodifiableEntity = (roleName: string) =>
  new IamError(
    'UnmodifiableEntity',
    400,
    `Cannot perform the operation on the protected role '${roleName}' - this role is only modifiable by AWS`,
  );
export const invalidInput = (message: string) => new IamError('InvalidInput', 400, message);
export const validationError = (message: string) => new IamError('ValidationError', 400, message);

export const throttling = () => new IamError('Throttling', 400, 'Rate exceeded');
export const serviceFailure = () =>
  new IamError(
    'ServiceFailure',
    500,
    'Request processing has failed due to some unknown error, exception or failure.',
  );
