import type { Type } from '@nestjs/common';
import type { ExternalContextCreator } from '@nestjs/core';
import { WebSocketCloseException } from '../errors/websocket-close.exception.js';
import type { WebSocketHandler } from '../handler/websocket-handler.js';
import { ExecutionContextHost, enhancerCreatorsOf } from '../internals/nest.internals.js';
import type { Route } from '../routing/route.js';

/**
 * What the route's exception filters made of a hook's error: the close to apply, `true` when a
 * filter handled it (the connection stays open), undefined when none did.
 */
export type ErrorMapping = WebSocketCloseException | true | undefined;

/** Runs the route's exception filters on a hook's error (`data`: the message being handled). */
export type ErrorMapper = (
  error: unknown,
  handler: WebSocketHandler,
  data?: unknown,
) => ErrorMapping | Promise<ErrorMapping>;

/**
 * `@UseFilters()` (method, controller, global) for errors thrown by the route's handlers, with a
 * `'ws'` ArgumentsHost: `switchToWs().getClient()` is the handler, `getData()` the message being
 * handled (undefined outside `onMessage`). As in Nest's own external contexts, the first filter
 * whose `@Catch()` matches runs, method filters before controller filters before global ones.
 * A filter closes the connection by returning or throwing a `WebSocketCloseException`; returning
 * anything else (`null` included) marks the error handled and keeps the connection open; returning
 * nothing leaves it unhandled (logged, closed with 1011). A filter may be async.
 */
export function createErrorMapper(
  contextCreator: ExternalContextCreator,
  route: Route,
): ErrorMapper {
  const { controller: instance, method } = route;
  const exceptionsHandler = enhancerCreatorsOf(contextCreator).filtersContextCreator.create(
    instance,
    method as never,
    route.module.token,
  );
  const controller = instance.constructor as Type;
  return (error, handler, data) => {
    const host = new ExecutionContextHost([handler, data], controller, method);
    host.setType('ws');
    let result: unknown;
    try {
      result = exceptionsHandler.invokeCustomFilters(error, host);
    } catch (thrown) {
      return closeThrown(thrown);
    }
    if (result instanceof Promise) return result.then(toMapping, closeThrown);
    return toMapping(result);
  };
}

function toMapping(result: unknown): ErrorMapping {
  if (result === undefined) return undefined;
  return result instanceof WebSocketCloseException ? result : true;
}

/** A filter that throws a `WebSocketCloseException` closes with it; any other throw is the filter's own failure. */
function closeThrown(thrown: unknown): WebSocketCloseException {
  if (thrown instanceof WebSocketCloseException) return thrown;
  throw thrown;
}
