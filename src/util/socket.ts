import type { Duplex } from 'node:stream';

/**
 * The `error` listener of a raw socket while its handshake runs: an error (a reset) must not become
 * an uncaught exception. Removed by the step that hands the socket to `ws`, which has its own.
 */
export function destroySocket(this: Duplex): void {
  this.destroy();
}
