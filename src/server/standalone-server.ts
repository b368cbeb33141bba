import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { WsServerOptions } from '../interfaces/ws-server-options.interface.js';

/**
 * The server of `WsModule.forRoot({ port })`: it only upgrades, every plain request gets
 * `onRequest`'s answer (`426`). `https` options make it a TLS server (`wss://`).
 */
export function createStandaloneServer(
  options: WsServerOptions,
  onRequest: RequestListener,
): Server {
  // An https.Server emits the same 'request' and 'upgrade' events as an http.Server.
  return options.https
    ? (createHttpsServer(options.https, onRequest) as unknown as Server)
    : createHttpServer(onRequest);
}

export function listen(server: Server, port: number, host: string | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** Stops listening and resolves once every connection is gone (upgraded ones are closed before). */
export function closeServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
