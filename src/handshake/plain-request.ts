import type { HttpServer } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { hasToken } from './handshake.validator.js';

/**
 * Answers plain HTTP requests (no upgrade) to the WebSocket routes' paths: `426 Upgrade Required`
 * with `Upgrade: websocket` (RFC 6455 4.2.2, RFC 9110 15.5.22), or `400` when `Upgrade: websocket`
 * came without `Connection: Upgrade` (such a request never reaches the `upgrade` event). Registered
 * as GET routes after the app's own routes and before its 404 handler: an HTTP route of the app on
 * the same path keeps serving it (Express matches in order; Fastify refuses a second route, which
 * is skipped here).
 */
export function servePlainRequests(adapter: HttpServer, paths: Iterable<string>): void {
  const answer = (request: IncomingMessage, response: unknown): void => {
    const upgradeOffered = hasToken(request.headers.upgrade, 'websocket');
    const status = upgradeOffered ? 400 : 426;
    // "close": the answer ends the exchange, as every refused handshake does.
    adapter.setHeader(response, 'Connection', upgradeOffered ? 'close' : 'Upgrade, close');
    if (!upgradeOffered) adapter.setHeader(response, 'Upgrade', 'websocket');
    adapter.reply(
      response,
      {
        statusCode: status,
        message: upgradeOffered
          ? 'Connection header must include "Upgrade"'
          : 'This path serves WebSocket connections only',
        error: upgradeOffered ? 'Bad Request' : 'Upgrade Required',
      },
      status,
    );
  };
  for (const path of paths) {
    try {
      adapter.get(path, answer);
    } catch (error) {
      if ((error as { code?: string }).code !== 'FST_ERR_DUPLICATED_ROUTE') throw error;
    }
  }
}
