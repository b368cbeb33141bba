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
 * other than the two (a typo would silently mean another design), a `cluster` that lists no node
 * as `{ host, port }`, a `connectTimeoutMs`, `readTimeoutMs` or `historyMetaTtlMs` that is not a time,
 * and single-channel routing on a cluster.
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
  if (cluster !== undefined && !isNodeList(cluster))
    throw new TypeError(
      invalidRedisBrokerOptionMessage(
        'cluster',
        cluster,
        "a non-empty array of { host: 'h', port: 6379 }",
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

function isNodeList(cluster: unknown): boolean {
  return (
    Array.isArray(cluster) &&
    cluster.length > 0 &&
    cluster.every(
      (node) =>
        typeof node?.host === 'string' &&
        Number.isInteger(node.port) &&
        node.port > 0 &&
        node.port < 65536,
    )
  );
}
