/** The subprotocol the handshake guard chose, kept on the request for `ws`'s `handleProtocols`. */
export const kProtocol = Symbol('protocol');

export { kPendingHandshake } from '../ws.constants.js';

/** Headers the app's middleware set on the response, to be sent on the `101` (see `ws`'s `headers` event). */
export const kUpgradeHeaders = Symbol('upgradeHeaders');
