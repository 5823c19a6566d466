// Lambda entry points build their handler on the first invocation (load the
// secrets into the environment, read the configuration, create the clients) and
// reuse it for the life of the instance. Each invocation runs with its Lambda
// context's keys, which every log line carries (lambda-context.ts).

import type { Context } from 'aws-lambda';
import { invocationScope } from './lambda-context';
import { loadSecrets } from './secrets';

/**
 * A failed build is forgotten, so the next invocation tries again instead of failing forever.
 * The secrets (LOOPGATE_SECRET_ARNS) are loaded before `build` reads the environment, and a
 * failure to load them is retried the same way.
 */
export function builtOnFirstCall<E, R>(
  build: () => Promise<(event: E) => Promise<R>>,
  loadEnvironment: () => Promise<unknown> = () => loadSecrets(),
  scope = invocationScope(),
): (event: E, context?: Context) => Promise<R> {
  let built: Promise<(event: E) => Promise<R>> | undefined;
  return (event, context) =>
    scope(context, async () => {
      built ??= loadEnvironment()
        .then(build)
        .catch((error: unknown) => {
          built = undefined;
          throw error;
        });
      return (await built)(event);
    });
}
