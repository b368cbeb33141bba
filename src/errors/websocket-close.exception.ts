/**
 * Thrown from a handler hook (or an exception filter's mapping) to close the connection with a
 * chosen close code and reason instead of 1011.
 *
 * @example
 * ```ts
 * onMessage(data: string) {
 *   if (!this.request.user) throw new WebSocketCloseException(4001, 'not signed in');
 * }
 * ```
 */
export class WebSocketCloseException extends Error {
  constructor(
    /** Close code sent to the peer: 1000, 1001, 1003, 1007-1009, 1011-1014 or 3000-4999. */
    readonly code: number,
    /** Close reason, at most 123 bytes of UTF-8. */
    readonly reason = '',
  ) {
    super(reason || `WebSocket closed with ${code}`);
    this.name = 'WebSocketCloseException';
  }
}
