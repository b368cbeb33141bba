import * as ws from 'ws';

/**
 * `ws`'s own parsers for `Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions`. `ws` exports
 * them (`subprotocol`, `extension`) but its type definitions do not declare them.
 */
const parsers = ws as unknown as {
  subprotocol: { parse(header: string): Set<string> };
  extension: { parse(header: string): Record<string, unknown> };
};

/** The offered subprotocols in the client's order; throws `SyntaxError` when malformed. */
export function parseProtocols(header: string): string[] {
  return [...parsers.subprotocol.parse(header)];
}

/** Throws `SyntaxError` when the `Sec-WebSocket-Extensions` header is malformed. */
export function parseExtensions(header: string): Record<string, unknown> {
  return parsers.extension.parse(header);
}
