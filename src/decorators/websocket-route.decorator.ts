import { RequestMethod, type Type } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { WebSocketHandler } from '../handler/websocket-handler.js';
import type { PendingHandshake } from '../interfaces/pending-handshake.interface.js';
import type { WebSocketRouteOptions } from '../interfaces/websocket-route-options.interface.js';
import {
  FASTIFY_ROUTE_CONSTRAINTS_METADATA,
  METHOD_METADATA,
  PATH_METADATA,
  ROUTE_ARGS_METADATA,
  RouteParamtypes,
} from '../internals/nest.internals.js';
import {
  kPendingHandshake,
  WEBSOCKET_CONSTRAINT,
  WEBSOCKET_ROUTE_METADATA,
} from '../ws.constants.js';
import { routeAppliedTwiceMessage } from '../ws.messages.js';

/** What `@WebSocketRoute()` records on a controller method. */
export interface WebSocketRouteMetadata {
  path: string;
  handler: Type<WebSocketHandler>;
  options: WebSocketRouteOptions;
  /** The decorated method as written: called with the handler once the connection is open. */
  method: (handler: WebSocketHandler) => unknown;
}

type RouteCallback = (this: object, request: unknown, response: unknown, next?: () => void) => void;

/**
 * Serves a WebSocket route at the controller's path joined with `path` (`:name` segments become
 * `handler.params.name`). Each connection gets its own `handler` instance, built with the
 * dependencies of the module that declares the controller. The decorated method is called with the
 * handler once the handshake succeeded, before `onOpen()`.
 *
 * On an HTTP app (Express, Fastify) the route is also a Nest `GET` route at the same place, so the
 * handshake goes through what a `GET` there goes through: the app's middleware and hooks, its
 * router (path syntax, host, versioning, global prefix, `RouterModule`), guards, interceptors and
 * exception filters, with the platform's request. Then Nest calls the route, which upgrades.
 *
 * @throws TypeError when the method already has a `@WebSocketRoute()`: one route per method.
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
  return (target, methodName, descriptor) => {
    const method = descriptor.value as unknown as WebSocketRouteMetadata['method'];
    // The lower decorator's route would be lost without a word (its path answering 404).
    if (Reflect.hasMetadata(WEBSOCKET_ROUTE_METADATA, method)) {
      throw new TypeError(
        routeAppliedTwiceMessage(`${target.constructor.name}.${String(methodName)}`),
      );
    }
    const route = routeCallback(methodName);
    // Decorators applied before this one (below it) put their metadata on the method as written.
    for (const key of Reflect.getMetadataKeys(method)) {
      Reflect.defineMetadata(key, Reflect.getMetadata(key, method), route);
    }
    const metadata: WebSocketRouteMetadata = { path, handler, options, method };
    Reflect.defineMetadata(WEBSOCKET_ROUTE_METADATA, metadata, route);
    Reflect.defineMetadata(PATH_METADATA, path, route);
    Reflect.defineMetadata(METHOD_METADATA, RequestMethod.GET, route);
    Reflect.defineMetadata(FASTIFY_ROUTE_CONSTRAINTS_METADATA, WEBSOCKET_CONSTRAINT, route);
    // @Req(), @Res(), @Next(): Nest hands the platform's objects over and leaves answering to us.
    Reflect.defineMetadata(
      ROUTE_ARGS_METADATA,
      {
        [`${RouteParamtypes.REQUEST}:0`]: { index: 0 },
        [`${RouteParamtypes.RESPONSE}:1`]: { index: 1 },
        [`${RouteParamtypes.NEXT}:2`]: { index: 2 },
      },
      target.constructor,
      methodName,
    );
    Object.defineProperty(route, 'name', { value: method.name, configurable: true });
    (descriptor as PropertyDescriptor).value = route;
    // Also when applied by hand (`Reflect.decorate()` without defining the result): the method
    // on the prototype must be the route Nest registers.
    Object.defineProperty(target, methodName, descriptor);
    return descriptor;
  };
}

/**
 * What Nest calls for the route: the upgrade dispatched by this library continues (see
 * `PendingHandshake`). A plain `GET` (no upgrade) goes on to the app's next route at this path,
 * or to the `426 Upgrade Required` answer registered after the app's routes.
 */
function routeCallback(methodName: string | symbol): RouteCallback {
  return function (this: object, request, response, next) {
    const raw = ((request as { raw?: IncomingMessage }).raw ?? request) as IncomingMessage &
      Record<symbol, PendingHandshake | undefined>;
    const pending = raw[kPendingHandshake];
    if (pending) pending.upgrade(this, methodName, request, response);
    else next?.();
  };
}
