import { randomBytes } from 'node:crypto';

/**
 * A new stream's epoch: random, so no position of a lost stream matches it (Centrifugo's epoch).
 * The in-process streams and `RedisBroker`'s Redis streams both start theirs with it.
 */
export function newEpoch(): string {
  return randomBytes(6).toString('hex');
}
