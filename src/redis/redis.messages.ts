import { optionValue } from '../ws.messages.js';

/**
 * Texts about where a Redis store connects, shared by `RedisBroker` and `RedisPresence`; the
 * README's "Errors you can hit" table explains them.
 */

/** `new <owner>(options)` throws this (a `TypeError`) for an option it cannot run with. */
export const invalidRedisOptionMessage = (
  owner: string,
  option: string,
  value: unknown,
  expected: string,
) => `new ${owner}(options): ${option} is ${optionValue(value)}; expected ${expected}.`;

/** What a `cluster` option must be. */
export const clusterNodesExpected = "a non-empty array of { host: 'h', port: 6379 }";

export const redisUrlAndClusterMessage = (owner: string) =>
  `new ${owner}(options): give either url (a standalone Redis) or cluster (a Redis Cluster's startup nodes), not both`;
