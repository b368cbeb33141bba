/** The subprotocol the handshake guard chose, kept on the request for `ws`'s `handleProtocols`. */
export const kProtocol = Symbol('protocol');

/**
 * The handshake in flight, kept on the raw upgrade request while the platform dispatches it: the
 * route handler Nest calls for a WebSocket route finds it here (see `PendingHandshake`).
 */
export const kPendingHandshake = Symbol.for('nestjs-ws-routes:pending-handshake');

/** Headers the app's middleware set on the response, to be sent on the `101` (see `ws`'s `headers` event). */
export const kUpgradeHeaders = Symbol('upgradeHeaders');
