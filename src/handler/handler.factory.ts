import type { Type } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';
import type { WebSocketHandler } from './websocket-handler.js';

/** Nest's own metadata keys for constructor and property injection (see @nestjs/common's constants). */
const CONSTRUCTOR_KEYS = ['design:paramtypes', 'self:paramtypes', 'optional:paramtypes'];
const PROPERTY_KEYS = ['self:properties_metadata', 'optional:properties_metadata'];

interface PropertyDependency {
  key: string | symbol;
}

/**
 * Builds a route's handlers. The dependencies are resolved once, at bootstrap, by Nest's own
 * injector in the module that declares the route (so imports, exports, global modules, `@Inject()`
 * tokens and `@Optional()` behave as for any provider); each connection then costs one `new`.
 *
 * Nest is asked to create a probe class carrying the handler's injection metadata, so the handler's
 * own constructor never runs at bootstrap.
 */
export async function createHandlerFactory(
  handlerType: Type<WebSocketHandler>,
  moduleRef: ModuleRef,
): Promise<() => WebSocketHandler> {
  class DependencyProbe {
    readonly args: unknown[];
    constructor(...args: unknown[]) {
      this.args = args;
    }
  }
  for (const key of [...CONSTRUCTOR_KEYS, ...PROPERTY_KEYS]) {
    const value: unknown = Reflect.getMetadata(key, handlerType);
    if (value !== undefined) Reflect.defineMetadata(key, value, DependencyProbe);
  }
  const probe = (await moduleRef.create(DependencyProbe)) as DependencyProbe &
    Record<string | symbol, unknown>;
  const args = probe.args;
  const properties = (
    (Reflect.getMetadata(PROPERTY_KEYS[0], handlerType) ?? []) as PropertyDependency[]
  ).map(({ key }) => [key, probe[key]] as const);
  if (properties.length === 0) return () => new handlerType(...args);
  return () => {
    const handler = new handlerType(...args) as WebSocketHandler & Record<string | symbol, unknown>;
    for (const [key, value] of properties) handler[key] = value;
    return handler;
  };
}
