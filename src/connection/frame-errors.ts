/**
 * The close code `ws` sent when it reports a frame it refused (RFC 6455 section 7.4.1): a malformed
 * frame 1002, invalid UTF-8 1007, a message over `maxPayload` 1009, too many fragments 1008.
 * `ws` keeps it on the error under a private symbol (described `status-code`); its documented
 * `error.code` (`WS_ERR_*`) tells the same when a release moves that symbol. Undefined for an error
 * of the socket (`ECONNRESET`), after which `ws` sends no close frame.
 */
export function sentCloseCodeOf(error: Error): number | undefined {
  const symbol = Object.getOwnPropertySymbols(error).find(
    (key) => key.description === 'status-code',
  );
  const status =
    symbol === undefined ? undefined : (error as unknown as Record<symbol, unknown>)[symbol];
  if (typeof status === 'number') return status;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('WS_ERR_')) return undefined;
  switch (code) {
    case 'WS_ERR_INVALID_UTF8':
      return 1007;
    case 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH':
    case 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH':
      return 1009;
    case 'WS_ERR_TOO_MANY_BUFFERED_PARTS':
      return 1008;
    default:
      return 1002;
  }
}
