/** The subprotocol the handshake guard chose, kept on the request for `ws`'s `handleProtocols`. */
export const kProtocol = Symbol('protocol');
