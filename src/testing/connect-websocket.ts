import type { INestApplication } from '@nestjs/common';
import type { Server } from 'node:http';
import { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocket } from 'ws';
import { webSocketUrl } from '../util/url.js';
import { closeWithApp } from './app-clients.js';
import { WebSocketTestClient } from './websocket-test-client.js';

/** Options of `connectWebSocket()`. */
export interface ConnectWebSocketOptions {
  /** Subprotocols offered in `Sec-WebSocket-Protocol`. */
  protocols?: string | string[];
  /** Extra request headers of the handshake (`Authorization`, `Cookie`, ...). */
  headers?: Record<string, string>;
  /** The `Origin` header of the handshake. */
  origin?: string;
  /** Offer permessage-deflate (default `false`). */
  perMessageDeflate?: boolean;
  /** Default timeout of the handshake and of every wait on the client, in ms (default 2000). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 2000;

/**
 * Connects a real `ws` client to a Nest application (made to listen on 127.0.0.1, port 0, if it
 * does not listen yet) or to a `ws://` / `wss://` URL, and resolves once the handshake settled:
 * with an open client, or with a refused one for `expectRejected()`. Rejects when no HTTP answer
 * comes (connection refused, socket closed, timeout). Clients connected to an app are terminated,
 * if still open, when the app closes.
 *
 * @example
 * const client = await connectWebSocket(app, '/chat?room=a', { protocols: ['chat.v1'] });
 * client.send('hello');
 * expect(await client.nextMessage()).toBe('hello');
 */
export async function connectWebSocket(
  target: INestApplication | string,
  path = '',
  options: ConnectWebSocketOptions = {},
): Promise<WebSocketTestClient> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const server = typeof target === 'string' ? undefined : await listeningServer(target);
  const url = server
    ? webSocketUrl(server.address() as AddressInfo, server instanceof HttpsServer, path)
    : target + path;
  const socket = new WebSocket(url, options.protocols, {
    headers: options.headers,
    origin: options.origin,
    perMessageDeflate: options.perMessageDeflate ?? false,
    rejectUnauthorized: false, // test servers use self-signed certificates
  });
  if (server) closeWithApp(server, socket);
  return new WebSocketTestClient(socket, url, timeoutMs).opened();
}

async function listeningServer(app: INestApplication): Promise<Server> {
  const server = app.getHttpServer() as Server;
  if (!server.listening) await app.listen(0, '127.0.0.1');
  return server;
}
