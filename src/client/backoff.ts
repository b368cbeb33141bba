/** The back-off between reconnect attempts. */
export interface BackoffOptions {
  /** The ceiling of the first delay, in ms. Default 500. */
  firstDelayMs?: number;
  /** The largest ceiling, in ms. Default 10000. */
  maxDelayMs?: number;
  /** How much the ceiling grows per attempt. Default 2. */
  factor?: number;
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = {
  firstDelayMs: 500,
  maxDelayMs: 10_000,
  factor: 2,
};

/**
 * The delay before reconnect attempt `attempt` (1 for the first), in ms: exponential back-off with
 * full jitter (AWS's "Exponential Backoff And Jitter"), a random time from 0 to
 * `min(maxDelayMs, firstDelayMs * factor ** (attempt - 1))`, so that the clients of a restarted
 * server do not all come back in the same instant.
 */
export function backoffDelay(
  attempt: number,
  options: Required<BackoffOptions>,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(
    options.maxDelayMs,
    options.firstDelayMs * options.factor ** (attempt - 1),
  );
  return Math.floor(random() * ceiling);
}
