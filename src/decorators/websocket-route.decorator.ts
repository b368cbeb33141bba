import { SetMetadata, type Type } from '@nestjs/common';
import { WEBSOCKET_ROUTE_METADATA } from '../ws.constants.js';
import type { WebSocketHandler } from '../handler/websocket-handler.js';
import type { WebSocketRouteOptions } from '../interfaces/websocket-route-options.interface.js';

/** What `@WebSocketRoute()` records on a controller method. */
export interface WebSocketRouteMetadata {
  path: string;
  handler: Type<WebSocketHandler>;
  options: WebSocketRouteOptions;
}

/**
 * Serves a WebSocket route at the controller's path joined with `path` (`:name` segments become
 * `handler.params.name`). Each connection gets its own `handler` instance, built with the
 * dependencies of the module that declares the controller. The decorated method is called with the
 * handler once the handshake succeeded, before `onOpen()`; `@UseGuards()` on the method or the
 * controller run at the handshake.
 *
 * @example
 * ```ts
 * @Controller('chat')
 * class ChatController {
 *   @WebSocketRoute('rooms/:room', ChatHandler, { protocols: ['chat.v1'] })
 *   joined(handler: ChatHandler) {}
 * }
 * ```
 */
export function WebSocketRoute(
  path: string,
  handler: Type<WebSocketHandler>,
  options: WebSocketRouteOptions = {},
): MethodDecorator {
  return SetMetadata<string, WebSocketRouteMetadata>(WEBSOCKET_ROUTE_METADATA, {
    path,
    handler,
    options,
  });
}
