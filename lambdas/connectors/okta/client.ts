// The one place loopgate builds an @okta/okta-sdk-nodejs client, with every
// setting passed explicitly so nothing around the process changes how it talks
// to Okta.
//
// What the SDK (8.x) does on its own, and what this module does about it:
// - It merges ~/.okta/okta.yaml, ./okta.yaml and OKTA_CLIENT_* variables under
//   the options given. The merged config only supplies orgUrl, token,
//   authorizationMode, userAgent and the PrivateKey fields; all but the
//   PrivateKey fields are passed here, and authorizationMode is forced to SSWS,
//   which never reads those. A stray file can therefore not change the org, the
//   credentials or the mode; a malformed one makes the build fail loudly.
// - It sends through HTTPS_PROXY / https_proxy whenever set, even to an http
//   org URL. loopgate never proxies implicitly: the agent is cleared.
// - `requestTimeout` as a client option is ignored: only the request executor
//   applies it (per request, including each 429 retry).
// - It caches single-object GETs forever (a suspended user would still read as
//   active): the cache is turned off.

import { vendorBaseUrl } from '../base-url';
import okta from '@okta/okta-sdk-nodejs';
import { ConfigurationError } from '../../core/errors';

export interface OktaClientSettings {
  /** e.g. https://example.okta.com (http is accepted for the sandbox). */
  orgUrl: string;
  /** An API token, sent as `Authorization: SSWS <token>`. */
  token: string;
  /** Per HTTP request, including the wait before a 429 retry. Must be positive: 0 means none to the SDK. */
  timeoutMs: number;
  /** How often the SDK retries a 429 that carries Okta's rate-limit headers; 0 for never. */
  maxRetries: number;
}

const USER_AGENT = 'loopgate';

export function createOktaClient(settings: OktaClientSettings): okta.Client {
  const orgUrl = vendorBaseUrl(settings.orgUrl, 'Okta org URL');
  if (!settings.token.trim()) throw new ConfigurationError('the Okta API token is empty');
  if (!Number.isInteger(settings.timeoutMs) || settings.timeoutMs < 1) {
    throw new ConfigurationError(
      `the Okta timeout must be a positive whole number of ms, got ${settings.timeoutMs}`,
    );
  }
  if (!Number.isInteger(settings.maxRetries) || settings.maxRetries < 0) {
    throw new ConfigurationError(`the Okta retry count must be 0 or more, got ${settings.maxRetries}`);
  }

  // `userAgent` is read by the client but missing from the SDK's option type.
  const options: NonNullable<ConstructorParameters<typeof okta.Client>[0]> & { userAgent: string } = {
    orgUrl,
    token: settings.token,
    authorizationMode: 'SSWS',
    userAgent: USER_AGENT,
    requestExecutor: new okta.DefaultRequestExecutor({
      requestTimeout: settings.timeoutMs,
      maxRetries: settings.maxRetries,
    }),
    cacheMiddleware: null,
  };
  let client: okta.Client;
  try {
    client = new okta.Client(options);
  } catch {
    // The cause is left out on purpose: a YAML parse error quotes the file, which may hold a token.
    throw new ConfigurationError(
      'the Okta client could not be built; check for a malformed okta.yaml in the working directory or ~/.okta',
    );
  }
  client.http.agent = undefined;
  return client;
}
