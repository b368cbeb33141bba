import type { Server } from 'node:http';
import type { WebSocket } from 'ws';

/** The helper's open clients per HTTP server, so they end with the app that served them. */
const clientsByServer = new WeakMap<Server, Set<WebSocket>>();

/**
 * Tracks `socket` until it closes, and terminates it if it is still open when the app closes.
 *
 * Nest closes the HTTP server after `beforeApplicationShutdown` (where `WsModule` sends 1001 and
 * awaits the close handshakes) on Express and Fastify alike, and `server.close()` waits for
 * upgraded sockets. Terminating what is left just before that call keeps a client whose server
 * never closes it (another library's route, a paused peer) from hanging `app.close()`, while the
 * clients `WsModule` closed still see their 1001. The server's `'close'` event would come too late.
 */
export function closeWithApp(server: Server, socket: WebSocket): void {
  let clients = clientsByServer.get(server);
  if (!clients) {
    clients = new Set();
    clientsByServer.set(server, clients);
    const open = clients;
    const close = server.close;
    server.close = function closeClientsFirst(this: Server, ...args: Parameters<Server['close']>) {
      for (const client of open) client.terminate();
      open.clear();
      return close.apply(this, args);
    };
  }
  clients.add(socket);
  const tracked = clients;
  socket.once('close', () => tracked.delete(socket));
}
