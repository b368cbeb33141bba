import { wsHeaderParsers } from '../internals/ws.internals.js';

/** The offered subprotocols in the client's order; throws `SyntaxError` when malformed. */
export function parseProtocols(header: string): string[] {
  return [...wsHeaderParsers.subprotocol.parse(header)];
}

/** Throws `SyntaxError` when the `Sec-WebSocket-Extensions` header is malformed. */
export function parseExtensions(header: string): Record<string, unknown> {
  return wsHeaderParsers.extension.parse(header);
}
