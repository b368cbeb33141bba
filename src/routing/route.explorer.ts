import { Injectable, type Type } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import {
  HOST_METADATA,
  VERSION_METADATA,
  type InstanceWrapper,
  type Module,
} from '../internals/nest.internals.js';
import type { WebSocketRouteMetadata } from '../decorators/websocket-route.decorator.js';
import type { ResolvedRouteOptions } from '../interfaces/resolved-route-options.interface.js';
import type { WebSocketRouteOptions } from '../interfaces/websocket-route-options.interface.js';
import {
  DEFAULT_DEFLATE_THRESHOLD,
  DEFAULT_OPTIONS,
  WEBSOCKET_ROUTE_METADATA,
} from '../ws.constants.js';
import { duplicateRouteMessage, invalidOptionMessage, notAHandlerMessage } from '../ws.messages.js';
import { WebSocketHandler } from '../handler/websocket-handler.js';
import { assertValidOptions } from './route-options.validation.js';
import { Route, routeLabel } from './route.js';
import type { RoutePathsOf } from './route-paths.js';
import { RouteTable } from './route-table.js';

interface RouteDeclaration {
  wrapper: InstanceWrapper;
  methodName: string;
  method: (...args: unknown[]) => unknown;
  metadata: WebSocketRouteMetadata;
  path: string;
}

/**
 * Finds every `@WebSocketRoute()` on the application's controllers at bootstrap and describes it
 * as data: where it is declared, its full paths and its options merged with the module's.
 */
@Injectable()
export class RouteExplorer {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  /**
   * Builds the route table; `pathsOf` gives a route's full paths (prefix, versions, module path).
   * `httpApp`: the routes are served through an HTTP platform (one path may then serve several
   * hosts or versions); `moduleOptions`: every route's defaults.
   */
  explore(
    pathsOf: RoutePathsOf,
    httpApp: boolean,
    moduleOptions: WebSocketRouteOptions,
  ): RouteTable {
    this.assertUniquePaths(pathsOf, httpApp);
    const table = new RouteTable();
    for (const { wrapper, methodName, method, metadata, path } of this.declarations(pathsOf)) {
      table.add(buildRoute(wrapper, methodName, method, path, metadata, moduleOptions));
    }
    return table;
  }

  /**
   * Two routes at one full path fail with both named. On an HTTP app one path may serve several
   * hosts or (non-URI) versions; this runs before Nest registers the routes (Fastify would refuse
   * the second with its own, less helpful, error).
   */
  assertUniquePaths(pathsOf: RoutePathsOf, httpApp: boolean): void {
    const taken = new Map<string, string>();
    for (const { wrapper, methodName, method, path } of this.declarations(pathsOf)) {
      const description = `${wrapper.name as string}.${methodName}`;
      const key = httpApp ? routeKey(path, wrapper.metatype as Type, method) : path;
      const existing = taken.get(key);
      if (existing) throw new Error(duplicateRouteMessage(path, existing, description));
      taken.set(key, description);
    }
  }

  /** Every `@WebSocketRoute()` of the app's controllers, once per full path. */
  private *declarations(pathsOf: RoutePathsOf): Generator<RouteDeclaration> {
    for (const wrapper of this.discovery.getControllers()) {
      const { instance, metatype } = wrapper;
      if (!instance || !metatype) continue;
      const prototype = Object.getPrototypeOf(instance) as Record<string, unknown>;
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const method = prototype[methodName] as (...args: unknown[]) => unknown;
        const metadata = Reflect.getMetadata(WEBSOCKET_ROUTE_METADATA, method) as
          WebSocketRouteMetadata | undefined;
        if (!metadata) continue;
        const module = wrapper.host as Module;
        for (const path of pathsOf(metatype as Type, method, metadata.path, module)) {
          yield { wrapper, methodName, method, metadata, path };
        }
      }
    }
  }
}

function buildRoute(
  wrapper: InstanceWrapper,
  methodName: string,
  method: (...args: unknown[]) => unknown,
  path: string,
  metadata: WebSocketRouteMetadata,
  moduleOptions: WebSocketRouteOptions,
): Route {
  const description = `${wrapper.name as string}.${methodName}`;
  const label = routeLabel(path, description);
  if (!isHandlerClass(metadata.handler))
    throw new Error(notAHandlerMessage(label, metadata.handler));
  const options = resolveOptions(moduleOptions, metadata.options, label);
  assertValidOptions(options, label);
  return new Route({
    path,
    controller: wrapper.instance as object,
    methodName,
    method,
    declaredMethod: metadata.method,
    module: wrapper.host as Module,
    description,
    handlerType: metadata.handler,
    options,
  });
}

/** A route's place as the platform's router tells routes apart: path, host, version. */
function routeKey(path: string, controller: Type, method: object): string {
  const host: unknown = Reflect.getMetadata(HOST_METADATA, controller);
  const version: unknown =
    Reflect.getMetadata(VERSION_METADATA, method) ??
    Reflect.getMetadata(VERSION_METADATA, controller);
  return JSON.stringify([path, String(host ?? ''), version ?? null]);
}

function isHandlerClass(handler: unknown): boolean {
  return typeof handler === 'function' && handler.prototype instanceof WebSocketHandler;
}

/** Module defaults, then the route's own options, then the library's defaults. */
export function resolveOptions(
  moduleOptions: WebSocketRouteOptions,
  routeOptions: WebSocketRouteOptions,
  /** The route, for error texts: `"/x" (Controller.method)`. */
  route = 'a route',
): ResolvedRouteOptions {
  const merged = {
    ...DEFAULT_OPTIONS,
    ...stripUndefined(moduleOptions),
    ...stripUndefined(routeOptions),
  };
  return {
    maxPayload: merged.maxPayload,
    closeTimeoutMs: merged.closeTimeoutMs,
    perMessageDeflate: deflateOptions(merged.perMessageDeflate),
    allowedOrigins: toOriginPredicate(merged.allowedOrigins, route),
    protocols: merged.protocols ?? [],
    requireProtocol: merged.requireProtocol,
    selectProtocol: merged.selectProtocol,
    maxConnections: merged.maxConnections ?? Infinity,
    handshakeTimeoutMs: merged.handshakeTimeoutMs,
    heartbeatMs: merged.heartbeatMs,
    idleTimeoutMs: merged.idleTimeoutMs,
    maxBackpressure: merged.maxBackpressure,
    backpressure: merged.backpressure,
    sendAfterClose: merged.sendAfterClose,
  };
}

/**
 * `ws` honours `threshold` only without server context takeover, so that is the default here: each
 * message is compressed on its own and messages under the threshold are sent as they are.
 */
function deflateOptions(
  option: WebSocketRouteOptions['perMessageDeflate'],
): ResolvedRouteOptions['perMessageDeflate'] {
  if (!option) return false;
  return {
    serverNoContextTakeover: true,
    threshold: DEFAULT_DEFLATE_THRESHOLD,
    ...(option === true ? {} : option),
  };
}

function stripUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}

function toOriginPredicate(
  allowed: WebSocketRouteOptions['allowedOrigins'],
  route: string,
): ResolvedRouteOptions['allowedOrigins'] {
  if (allowed === undefined || typeof allowed === 'function') return allowed;
  const origins = new Set(allowed.map((entry) => serializedOrigin(entry, route)));
  // Clients that are not browsers send no Origin; the list only restrains browsers.
  return (origin) => origin === undefined || origins.has(origin);
}

/**
 * An `allowedOrigins` entry as a browser sends it in `Origin` (RFC 6454 section 6.1: scheme and host
 * in lower case, no default port, no path), so `'https://App.example.com:443/'` matches
 * `https://app.example.com`. `'null'` (the opaque origin of sandboxed frames and `file:` pages) is
 * kept as written; anything that is not an origin fails bootstrap, naming the route.
 */
function serializedOrigin(entry: string, route: string): string {
  if (entry === 'null') return entry;
  let origin = 'null';
  try {
    origin = new URL(entry).origin;
  } catch {
    // not a URL: reported below
  }
  if (origin === 'null') {
    throw new Error(
      invalidOptionMessage(
        route,
        'allowedOrigins',
        entry,
        "an origin such as 'https://app.example.com'",
      ),
    );
  }
  return origin;
}
