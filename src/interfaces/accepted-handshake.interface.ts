import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * The end of the handshake line: every check passed (RFC 6455, origin, subprotocol, capacity,
 * guards, the app's pipeline on an HTTP platform), the socket is still raw. The connection step
 * takes it from here (`ws`'s `handleUpgrade`, the 101, the handler). Plain arguments, no object
 * per handshake:
 * - `route`: the route the handshake is for (a `Route` of the route table);
 * - `request`, `socket`, `head`: what the server's `upgrade` event gave;
 * - `params`: the route parameters, decoded;
 * - `platformRequest`: the platform's request object (Express's, Fastify's), or `request`;
 * - `protocol`: the chosen subprotocol, '' for none;
 * - `headerLines`: lines the app set for the `101` (e.g. `Set-Cookie`), or undefined.
 */
export type AcceptHandshake<R = unknown> = (
  route: R,
  request: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  params: Record<string, string>,
  platformRequest: unknown,
  protocol: string,
  headerLines: string[] | undefined,
) => void;
