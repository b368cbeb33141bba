/**
 * The close codes the library sends, by name, and the convention a client follows on each:
 * reconnect (and resume where it left off) or do not; `isReconnectCloseCode()` tells which. After
 * RFC 6455 section 7.4.1 and Centrifugo's split of the application range (3000-3499 reconnect,
 * 3500-3999 do not; for the application's own codes 4000-4499 and 4500-4999 the same). The
 * "Close codes" table of docs/lifecycle.md says which close of the library sends which; the browser client
 * (`nestjs-ws-routes/client`) follows it, importing this file alone.
 */
export const WebSocketCloseCode = {
  /** 1000: done; do not reconnect. */
  NORMAL: 1000,
  /** 1001: the server is shutting down or closed an idle connection; reconnect (and resume). */
  GOING_AWAY: 1001,
  /** 1003: a message of a kind the route does not accept (e.g. binary); do not reconnect. */
  UNSUPPORTED_DATA: 1003,
  /** 1007: invalid UTF-8 in a text message (sent by `ws`); do not reconnect. */
  INVALID_PAYLOAD: 1007,
  /**
   * 1008: a policy was broken: the `backpressure limit` (the client read too slowly), a rate
   * limit; do not reconnect at once. Kept the standard code for backpressure, which clients
   * already tell by its reason.
   */
  POLICY_VIOLATION: 1008,
  /** 1009: a message over `maxPayload` (sent by `ws`); do not reconnect with the same message. */
  MESSAGE_TOO_BIG: 1009,
  /** 1011: the handler failed; reconnect with back-off. */
  INTERNAL_ERROR: 1011,
  /** 1012: the service is restarting; reconnect (and resume). */
  SERVICE_RESTART: 1012,
  /** 1013: try again later (a dependency is away); reconnect with back-off. */
  TRY_AGAIN_LATER: 1013,
  /**
   * 3000: the connection cannot go on where it was (what it missed is gone); reconnect, do not
   * resume: fetch the state again (Centrifugo's "insufficient state"). Sent to a connection of a
   * topic with history that lost continuity when its handler has no `onContinuityLost()`.
   */
  LOST_CONTINUITY: 3000,
} as const;

/** Standard codes after which a client reconnects (the others of 1000-2999 mean: do not). */
const RECONNECT_STANDARD = new Set<number>([1001, 1006, 1011, 1012, 1013, 1014]);

/**
 * Whether a client should reconnect after a close with `code` (with back-off and jitter; and
 * resume where it left off, except after `LOST_CONTINUITY`): 1001, 1006 (no close frame), 1011,
 * 1012, 1013, 1014, 3000-3499 and 4000-4499. Not after 1000, 1002-1005, 1007-1010 (1008
 * included), 1015, 3500-3999 or 4500-4999. Centrifugo's convention for the application range.
 */
export function isReconnectCloseCode(code: number): boolean {
  if (code >= 3000 && code <= 4999) return code % 1000 < 500;
  return RECONNECT_STANDARD.has(code);
}
