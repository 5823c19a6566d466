// Checks a vendor base URL from configuration before any request is made with credentials.

import { ConfigurationError } from '../core/errors';

/** An http(s) URL without credentials, query or fragment, returned without a trailing slash. */
export function vendorBaseUrl(value: string, what: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigurationError(`the ${what} is not a URL: "${value}"`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigurationError(`the ${what} must be http(s), got "${url.protocol}"`);
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new ConfigurationError(`the ${what} must not carry credentials, a query or a fragment`);
  }
  return url.origin + url.pathname.replace(/\/+$/, '');
}
