import { RequestMethod, type Type } from '@nestjs/common';
import { ApplicationConfig, type ModulesContainer } from '@nestjs/core';
import {
  MODULE_PATH,
  PATH_METADATA,
  RoutePathFactory,
  VERSION_METADATA,
  type Module,
} from '../internals/nest.internals.js';
import { normalizePath } from './route-table.js';

/** The full paths of one WebSocket route, as Nest builds the paths of an HTTP `GET` route. */
export type RoutePathsOf = (
  controller: Type,
  method: object,
  routePath: string,
  module: Module,
) => string[];

/**
 * Paths built by Nest's own `RoutePathFactory`, so a WebSocket route gets what an HTTP route in the
 * same place gets: the `RouterModule` path, URI versioning, and the global prefix with its
 * `exclude` rules (matched as `GET`: a handshake is a GET). Without `config` (a standalone
 * server), neither the global prefix nor versioning apply.
 */
export function createRoutePaths(
  modules: ModulesContainer,
  config: ApplicationConfig = new ApplicationConfig(),
): RoutePathsOf {
  const factory = new RoutePathFactory(config);
  const versioning = config.getVersioning();
  const globalPrefix = config.getGlobalPrefix();
  return (controller, method, routePath, module) =>
    controllerPaths(controller).flatMap((ctrlPath) =>
      factory
        .create(
          {
            ctrlPath,
            methodPath: routePath,
            modulePath: modulePathOf(module.metatype, modules),
            globalPrefix: globalPrefix ? '/' + globalPrefix.replace(/^\/+/, '') : '',
            versioningOptions: versioning,
            controllerVersion: versioning
              ? (Reflect.getMetadata(VERSION_METADATA, controller) ?? versioning.defaultVersion)
              : undefined,
            methodVersion: versioning ? Reflect.getMetadata(VERSION_METADATA, method) : undefined,
          },
          RequestMethod.GET,
        )
        .map(normalizePath),
    );
}

function controllerPaths(controller: Type): string[] {
  const path = Reflect.getMetadata(PATH_METADATA, controller) as string | string[] | undefined;
  const paths = Array.isArray(path) ? path : [path ?? '/'];
  return paths.length ? paths.map((p) => '/' + p.replace(/^\/+/, '')) : ['/'];
}

// As RoutesResolver reads it: RouterModule registers the path per application.
function modulePathOf(module: Type, modules: ModulesContainer): string | undefined {
  return (Reflect.getMetadata(MODULE_PATH + modules.applicationId, module) ??
    Reflect.getMetadata(MODULE_PATH, module)) as string | undefined;
}
