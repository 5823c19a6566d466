// One way to give a call a deadline. The work gets an AbortSignal that fires when the time is up,
// to end a request in flight; the call settles at the deadline even when the work does not listen
// (an SDK's pause before a retry, which no signal interrupts). A timer, not AbortSignal.timeout:
// it is cleared as soon as the work settles, and tests can move it with fake timers.

export function withDeadline<T>(
  ms: number,
  expired: () => Error,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      controller.abort();
      reject(expired());
    }, ms);
    let running: Promise<T>;
    try {
      running = work(controller.signal);
    } catch (error) {
      running = Promise.reject(error);
    }
    running.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        // Work that ends because the signal fired ended because of the deadline.
        reject(controller.signal.aborted ? expired() : error);
      },
    );
  });
}
