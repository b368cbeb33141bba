import { Scope, type Type } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';
import {
  OPTIONAL_DEPS_METADATA,
  OPTIONAL_PROPERTY_DEPS_METADATA,
  PARAMTYPES_METADATA,
  PROPERTY_DEPS_METADATA,
  RequestScopedCreateException,
  SELF_DECLARED_DEPS_METADATA,
} from '../internals/nest.internals.js';
import { handlerDependenciesMessage, requestScopedHandlerMessage } from '../ws.messages.js';
import type { WebSocketHandler } from './websocket-handler.js';

/** Nest's metadata keys for constructor and property injection, copied onto the probe. */
const INJECTION_KEYS = [
  PARAMTYPES_METADATA,
  SELF_DECLARED_DEPS_METADATA,
  OPTIONAL_DEPS_METADATA,
  PROPERTY_DEPS_METADATA,
  OPTIONAL_PROPERTY_DEPS_METADATA,
];

interface PropertyDependency {
  key: string | symbol;
  type: unknown;
}

/**
 * Builds a route's handlers. The dependencies are resolved once, at bootstrap, by Nest's own
 * injector in the module that declares the route (so imports, exports, global modules, `@Inject()`
 * tokens and `@Optional()` behave as for any provider); each connection then costs one `new`.
 *
 * Nest is asked to create a probe class carrying the handler's injection metadata (and name, so
 * Nest's errors name the handler), so the handler's own constructor never runs at bootstrap.
 * `route` (`"/chat/:room" (ChatController.join)`) goes into the errors.
 */
export async function createHandlerFactory(
  handlerType: Type<WebSocketHandler>,
  moduleRef: ModuleRef,
  route: string,
): Promise<() => WebSocketHandler> {
  class DependencyProbe {
    readonly args: unknown[];
    constructor(...args: unknown[]) {
      this.args = args;
    }
  }
  Object.defineProperty(DependencyProbe, 'name', { value: handlerType.name });
  for (const key of INJECTION_KEYS) {
    const value: unknown = Reflect.getMetadata(key, handlerType);
    if (value !== undefined) Reflect.defineMetadata(key, value, DependencyProbe);
  }
  const probe = (await moduleRef.create(DependencyProbe).catch((error: unknown) => {
    throw explain(error, handlerType, moduleRef, route);
  })) as DependencyProbe & Record<string | symbol, unknown>;
  const args = probe.args;
  const properties = (
    (Reflect.getMetadata(PROPERTY_DEPS_METADATA, handlerType) ?? []) as PropertyDependency[]
  ).map(({ key }) => [key, probe[key]] as const);
  const construct = constructorOf(handlerType, args);
  if (properties.length === 0) return construct;
  return () => {
    const handler = construct() as WebSocketHandler & Record<string | symbol, unknown>;
    for (const [key, value] of properties) handler[key] = value;
    return handler;
  };
}

/**
 * `new handlerType(...args)` with the resolved instances bound: a plain `new` for the usual zero
 * to three dependencies (a spread call copies the arguments through an iterator on each connection).
 */
function constructorOf(
  handlerType: Type<WebSocketHandler>,
  args: readonly unknown[],
): () => WebSocketHandler {
  const [a, b, c] = args;
  switch (args.length) {
    case 0:
      return () => new handlerType();
    case 1:
      return () => new handlerType(a);
    case 2:
      return () => new handlerType(a, b);
    case 3:
      return () => new handlerType(a, b, c);
    default:
      return () => new handlerType(...args);
  }
}

/** Nest's error, restated with the handler, the route and the way out. */
function explain(error: unknown, handler: Type, moduleRef: ModuleRef, route: string): Error {
  const detail = error instanceof Error ? error.message : String(error);
  if (!(error instanceof RequestScopedCreateException))
    return new Error(handlerDependenciesMessage(handler.name, route, detail), { cause: error });
  const scoped = dependencyTokens(handler).filter((token) => !isStatic(moduleRef, token));
  const names = scoped.map(tokenName);
  return new Error(requestScopedHandlerMessage(handler.name, route, names), { cause: error });
}

/** The handler's injection tokens: constructor parameters (with `@Inject()` overrides) and properties. */
function dependencyTokens(handler: Type): unknown[] {
  const params = [...((Reflect.getMetadata(PARAMTYPES_METADATA, handler) ?? []) as unknown[])];
  const overrides = (Reflect.getMetadata(SELF_DECLARED_DEPS_METADATA, handler) ?? []) as {
    index: number;
    param: unknown;
  }[];
  for (const { index, param } of overrides) params[index] = param;
  const properties = (Reflect.getMetadata(PROPERTY_DEPS_METADATA, handler) ??
    []) as PropertyDependency[];
  return [...params, ...properties.map(({ type }) => type)];
}

/** Request-scoped, or transient (which may hang on a request-scoped provider): not resolvable once. */
function isStatic(moduleRef: ModuleRef, token: unknown): boolean {
  try {
    return moduleRef.introspect(token as Type).scope === Scope.DEFAULT;
  } catch {
    return true; // not a provider of this module: not the cause
  }
}

function tokenName(token: unknown): string {
  return typeof token === 'function' ? token.name : String(token);
}
