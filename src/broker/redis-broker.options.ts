import { invalidRedisBrokerOptionMessage, redisClusterRoutingMessage } from './broker.messages.js';

/** The options `checkRedisBrokerOptions` looks at, as plain JavaScript may give them. */
interface UncheckedOptions {
  routing?: unknown;
  cluster?: unknown;
  connectTimeoutMs?: unknown;
  readTimeoutMs?: unknown;
  historyMetaTtlMs?: unknown;
}

/**
 * Refuses, at construction, the `RedisBroker` options it could only misread later: a `routing`
 * other than the two (a typo would silently mean another design), a `connectTimeoutMs`,
 * `readTimeoutMs` or `historyMetaTtlMs` that is not a time, and single-channel routing on a
 * cluster. (`url` and `cluster` are checked by `redisTarget`.)
 */
export function checkRedisBrokerOptions(options: UncheckedOptions): void {
  const { routing, cluster } = options;
  if (routing !== undefined && routing !== 'interest' && routing !== 'single-channel')
    throw new TypeError(
      invalidRedisBrokerOptionMessage(
        'routing',
        routing,
        "'interest' (the default) or 'single-channel'",
      ),
    );
  for (const name of ['connectTimeoutMs', 'readTimeoutMs'] as const) {
    const value = options[name];
    if (value !== undefined && !(typeof value === 'number' && value >= 0 && value <= 2 ** 31 - 1))
      throw new TypeError(
        invalidRedisBrokerOptionMessage(name, value, 'milliseconds from 0 to 2147483647'),
      );
  }
  const { historyMetaTtlMs: metaTtl } = options;
  if (metaTtl !== undefined && !(Number.isSafeInteger(metaTtl) && (metaTtl as number) >= 1))
    throw new TypeError(
      invalidRedisBrokerOptionMessage(
        'historyMetaTtlMs',
        metaTtl,
        'an integer of milliseconds >= 1',
      ),
    );
  if (cluster !== undefined && routing === 'single-channel')
    throw new Error(redisClusterRoutingMessage);
}
