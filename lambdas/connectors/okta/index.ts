// The Okta connector: the SDK client with loopgate's settings, and the Directory port on it.

export { createOktaClient, type OktaClientSettings } from './client';
export { OktaDirectory, type OktaDirectoryOptions } from './directory';
export { OktaStepUp, type OktaStepUpOptions } from './step-up';
