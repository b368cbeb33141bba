import type { ExecutionContext } from '@nestjs/common';
import { WEBSOCKET_HANDSHAKE } from '../ws.constants.js';

/**
 * True when a guard runs for a WebSocket handshake rather than an HTTP request. The context is then
 * of type `'http'`, `getRequest()` is the upgrade request (with `params`, `query`, `headers`), and
 * whatever the guard puts on the request (e.g. `request.user`) is the handler's `this.request`.
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
  const request = context.switchToHttp().getRequest<Record<symbol, unknown> | undefined>();
  return request?.[WEBSOCKET_HANDSHAKE] === true;
}
