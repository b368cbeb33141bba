import type { ExecutionContext } from '@nestjs/common';
import { WEBSOCKET_HANDSHAKE } from '../ws.constants.js';

/**
 * True when a guard runs for a WebSocket handshake rather than an HTTP request. The context is then
 * of type `'http'` and `getRequest()` is the platform's request (Express's `Request`, Fastify's
 * `FastifyRequest`; on the standalone port the upgrade request with `params` and `query`); what the
 * guard puts on it (e.g. `request.user`) is on the handler's `this.httpRequest`.
 *
 * @example
 * ```ts
 * canActivate(context: ExecutionContext) {
 *   if (isWebSocketHandshake(context)) { ... }
 * }
 * ```
 */
export function isWebSocketHandshake(context: ExecutionContext): boolean {
  if (context.getType() !== 'http') return false;
  const request = context
    .switchToHttp()
    .getRequest<(Record<symbol, unknown> & { raw?: Record<symbol, unknown> }) | undefined>();
  // Fastify's request wraps the raw one.
  return (request?.raw ?? request)?.[WEBSOCKET_HANDSHAKE] === true;
}
