/**
 * Thrown by `send()` (rejected by `sendAsync()`) on a connection that is closing or closed, only
 * with the opt-in route option `sendAfterClose: 'throw'` (the default `'ignore'` returns false).
 * `sendAsync()` also rejects with it when the connection closes before the message was written;
 * `cause` then says why.
 */
export class WebSocketClosedError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'WebSocketClosedError';
  }
}
