import type { ExternalContextCreator } from '@nestjs/core';
import type { ExternalExceptionFilterContext } from '@nestjs/core/exceptions/external-exception-filter-context.js';
import type { GuardsContextCreator } from '@nestjs/core/guards/guards-context-creator.js';

/**
 * Everything of Nest the library reads beyond `@nestjs/common` and `@nestjs/core`'s root exports,
 * in one file: deep imports (metadata keys, route parameter types, the injector's module and
 * instance wrapper, the route path factory, the execution context host, the request-scope error)
 * and the private context creators of `ExternalContextCreator`. A Nest release that moves one of
 * them breaks here, at build or at bootstrap, and nowhere else.
 */
export {
  HOST_METADATA,
  METHOD_METADATA,
  MODULE_PATH,
  OPTIONAL_DEPS_METADATA,
  OPTIONAL_PROPERTY_DEPS_METADATA,
  PARAMTYPES_METADATA,
  PATH_METADATA,
  PROPERTY_DEPS_METADATA,
  ROUTE_ARGS_METADATA,
  SELF_DECLARED_DEPS_METADATA,
  VERSION_METADATA,
} from '@nestjs/common/constants.js';
export { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
export { ExecutionContextHost } from '@nestjs/core/internal';
export { RequestScopedCreateException } from '@nestjs/core/errors/exceptions/request-scoped-create.exception.js';
export type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
export type { Module } from '@nestjs/core/injector/module.js';
export { RoutePathFactory } from '@nestjs/core/router/route-path-factory.js';

/**
 * `@nestjs/platform-fastify` copies this metadata of a route method into the route's Fastify
 * `constraints` (see its `@RouteConstraints()`); the key is its `FASTIFY_ROUTE_CONSTRAINTS_METADATA`,
 * spelled here so that Express apps need not install the Fastify adapter.
 */
export const FASTIFY_ROUTE_CONSTRAINTS_METADATA = '__fastify_route_constraints__';

/**
 * `ExternalContextCreator` is the injectable Nest offers libraries for running enhancers outside
 * of Nest's router; its guard and filter context creators resolve global (`APP_GUARD`,
 * `useGlobalGuards()`), controller and method enhancers with their module's injector. Its `create()`
 * would also call the controller method, so the two creators are used directly.
 */
export interface EnhancerContextCreators {
  guardsContextCreator: GuardsContextCreator;
  filtersContextCreator: ExternalExceptionFilterContext;
}

/** The private creators of `contextCreator`; throws at bootstrap when this Nest has none. */
export function enhancerCreatorsOf(
  contextCreator: ExternalContextCreator,
): EnhancerContextCreators {
  const creators = contextCreator as unknown as Partial<EnhancerContextCreators>;
  if (!creators.guardsContextCreator || !creators.filtersContextCreator) {
    throw new Error(
      'nestjs-ws-routes: this @nestjs/core has no guard and filter context creators; use NestJS 12',
    );
  }
  return creators as EnhancerContextCreators;
}
