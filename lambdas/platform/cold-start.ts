// Lambda entry points build their handler on the first invocation (read the
// configuration, create the clients) and reuse it for the life of the instance.

/** A failed build is forgotten, so the next invocation tries again instead of failing forever. */
export function builtOnFirstCall<E, R>(
  build: () => Promise<(event: E) => Promise<R>>,
): (event: E) => Promise<R> {
  let built: Promise<(event: E) => Promise<R>> | undefined;
  return async (event) => {
    built ??= build().catch((error: unknown) => {
      built = undefined;
      throw error;
    });
    return (await built)(event);
  };
}
