import { optionValue } from '../ws.messages.js';

/**
 * Texts about where a Redis store connects, shared by `RedisBroker` and `RedisPresence`; the
 * "Errors you can hit" table of docs/options-and-errors.md explains them.
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

export const redisClientMissingMessage = (cause: string) =>
  `RedisBroker and RedisPresence need the "ioredis" package (${cause}): npm install ioredis`;

export const redisClusterClientTooOldMessage = (version: string) =>
  `RedisBroker({ cluster }) and RedisPresence({ cluster }) need ioredis 5.9 or later (found ${version}): older versions do not subscribe again to a shard's channels after it restarts. npm install ioredis@latest`;
