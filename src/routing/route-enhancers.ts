import type { CanActivate, Type } from '@nestjs/common';
import type { ExternalContextCreator } from '@nestjs/core';
import { WebSocketCloseException } from '../errors/websocket-close.exception.js';
import type { GuardsRunner } from '../handshake/handshake.guard.js';
import type { WebSocketHandler } from '../handler/websocket-handler.js';
import { ExecutionContextHost, enhancerCreatorsOf } from '../internals/nest.internals.js';
import type { ErrorMapping } from './route.js';

/**
 * The route's guards as one function, or null when no guard applies (then the handshake skips
 * the guard machinery entirely and stays synchronous). Refusal throws like Nest's router does:
 * `ForbiddenException` for `false`, or whatever the guard threw.
 */
export function createGuardsRunner(
  contextCreator: ExternalContextCreator,
  instance: object,
  method: (...args: unknown[]) => unknown,
  moduleKey: string,
): GuardsRunner | null {
  const guards: CanActivate[] = enhancerCreatorsOf(contextCreator).guardsContextCreator.create(
    instance,
    method,
    moduleKey,
  );
  const canActivate = contextCreator.createGuardsFn(guards, instance, method, 'http');
  if (!canActivate) return null;
  return (args) => canActivate(args) as Promise<void>;
}

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
  instance: object,
  method: (...args: unknown[]) => unknown,
  moduleKey: string,
): (
  error: unknown,
  handler: WebSocketHandler,
  data?: unknown,
) => ErrorMapping | Promise<ErrorMapping> {
  const exceptionsHandler = enhancerCreatorsOf(contextCreator).filtersContextCreator.create(
    instance,
    method as never,
    moduleKey,
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
