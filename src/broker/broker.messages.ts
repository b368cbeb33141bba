import { invalidRedisOptionMessage } from '../redis/redis.messages.js';

/** Texts the brokers log or throw; the "Errors you can hit" table of docs/options-and-errors.md explains them. */

/** `new RedisBroker(options)` throws this (a `TypeError`) for an option it cannot run with. */
export const invalidRedisBrokerOptionMessage = (option: string, value: unknown, expected: string) =>
  invalidRedisOptionMessage('RedisBroker', option, value, expected);

export const redisUnreachableMessage = (url: string, cause: string) =>
  `Redis at ${url} is not reachable (${cause}); publish and broadcast serve this instance only until it is. Retrying.`;

export const redisLostMessage = (url: string, cause: string) =>
  `Lost the connection to Redis at ${url} (${cause}); publish and broadcast serve this instance only until it is back. Reconnecting.`;

export const redisUndeliveredMessage = (url: string) =>
  `Redis at ${url} is down: messages published now reach this instance's sockets only (counted in stats().broker.undelivered)`;

export const redisRestoredMessage = (url: string, undelivered: number) =>
  `Reconnected to Redis at ${url}; ${undelivered} message(s) published meanwhile reached this instance's sockets only`;

export const redisClusterRoutingMessage =
  "RedisBroker: a Redis Cluster needs routing: 'interest' (each topic's channel on its shard); drop routing: 'single-channel'";

export const redisReadTimedOutMessage = (timeoutMs: number) =>
  `Redis did not answer a history read within ${timeoutMs} ms (readTimeoutMs)`;
