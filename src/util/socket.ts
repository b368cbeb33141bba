import type { Duplex } from 'node:stream';

/**
 * The `error` listener of a raw socket while its handshake runs: an error (a reset) must not become
 * an uncaught exception. One shared function (no closure per handshake), called with the socket as
 * `this`; removed by the step that hands the socket to `ws`, which has its own.
 */
export const destroySocket = function (this: Duplex): void {
  this.destroy();
};
