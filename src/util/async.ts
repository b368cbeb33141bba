/** True for a promise or any thenable a hook may return. */
export function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

/**
 * Calls `hook` on `subject` with `arg`, synchronous or not: `done` gets its value (at once when it
 * returned a plain value, once settled when it returned a promise-like) and `onError` a throw or a
 * rejection. No hook counts as done at once. A synchronous hook stays synchronous (no microtask),
 * and the callbacks take `subject` and `arg` so that hot callers need no closure per call.
 */
export function settleCall<S, A, R>(
  subject: S,
  hook: ((this: S, arg: A) => R | PromiseLike<R>) | undefined,
  arg: A,
  done: ((subject: S, value: R, arg: A) => void) | undefined,
  onError: (subject: S, error: unknown, arg: A) => void,
): void {
  if (hook === undefined) {
    done?.(subject, undefined as R, arg);
    return;
  }
  let result: R | PromiseLike<R>;
  try {
    result = hook.call(subject, arg);
  } catch (error) {
    onError(subject, error, arg);
    return;
  }
  if (isPromiseLike(result)) {
    result.then(done && ((value: R) => done(subject, value, arg)), (error: unknown) =>
      onError(subject, error, arg),
    );
  } else {
    done?.(subject, result, arg);
  }
}

/** What `raceTimeout` resolves to when the time ran out first. */
export const TIMED_OUT: unique symbol = Symbol('timed out');

/**
 * `work`'s value, or `TIMED_OUT` once `timeoutMs` passed first; rejects when `work` rejects in
 * time (a later rejection is ignored). The timer is cleared either way; with `unref` it does not
 * keep the process alive while it waits.
 */
export async function raceTimeout<T>(
  work: PromiseLike<T>,
  timeoutMs: number,
  unref = false,
): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(resolve, timeoutMs, TIMED_OUT);
    if (unref) timer.unref();
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
