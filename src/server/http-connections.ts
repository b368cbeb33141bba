import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Node's own list of an HTTP server's connections (`server[Symbol(http.server.connections)]`,
 * Node 18.2+), the one `closeIdleConnections()` reads. It is internal, so it lives here only, and
 * if a Node release renames or reshapes it, the caller gets no connections (the behaviour before
 * this file existed) instead of an error.
 */
interface ConnectionsList {
  active(): { socket?: Socket; incoming?: unknown }[];
}

function connectionsOf(server: Server): ConnectionsList | undefined {
  const key = Object.getOwnPropertySymbols(server).find(
    (symbol) => symbol.description === 'http.server.connections',
  );
  const list = key === undefined ? undefined : (server as unknown as Record<symbol, unknown>)[key];
  return typeof (list as Partial<ConnectionsList> | undefined)?.active === 'function'
    ? (list as ConnectionsList)
    : undefined;
}

/**
 * The sockets of `server` whose request headers have not all arrived (a half-sent handshake, a
 * slow link, a client that connected and sent nothing yet). `server.close()` would wait for them:
 * it stops the `headersTimeout` check and closes only idle keep-alive connections. A socket that
 * has a request in progress (`incoming`) or a response being written is not among them.
 */
export function requestsStillArriving(server: Server): Socket[] {
  const sockets: Socket[] = [];
  for (const parser of connectionsOf(server)?.active() ?? []) {
    const socket = parser.socket as (Socket & { _httpMessage?: unknown }) | undefined;
    if (!socket || parser.incoming || socket._httpMessage || socket.destroyed) continue;
    sockets.push(socket);
  }
  return sockets;
}
