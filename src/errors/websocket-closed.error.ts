/**
 * Thrown by `send()` on a connection that is closing or closed (route option
 * `sendAfterClose: 'throw'`, the default). Check `handler.isOpen` first, or set
 * `sendAfterClose: 'ignore'` to have such sends return false.
 */
export class WebSocketClosedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebSocketClosedError';
  }
}
