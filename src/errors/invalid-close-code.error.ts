/**
 * Thrown by `close(code, reason)` when the code may not be sent (RFC 6455 7.4) or the reason is
 * longer than 123 bytes. Valid codes: 1000, 1001, 1003, 1007-1009, 1011-1014 and 3000-4999.
 */
export class InvalidCloseCodeError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidCloseCodeError';
  }
}
