import type { Type } from '@nestjs/common';
import type { WebSocketHandler } from '../handler/websocket-handler.js';
import { EchoHandler } from '../handler/echo.handler.js';
import type { ResolvedRouteOptions } from '../interfaces/resolved-route-options.interface.js';
import type { Module } from '../internals/nest.internals.js';
import type { WebSocketTrafficStats } from '../interfaces/websocket-stats.interface.js';
import { emptyTrafficStats as emptyCounters } from '../registry/traffic-stats.js';

/** Counters of one route, read by `WebSocketRegistry.stats()`. */
export type RouteCounters = WebSocketTrafficStats;

/** What the explorer found for a route at bootstrap. */
export interface RouteInit {
  path: string;
  /** The controller instance and the name of its decorated method. */
  controller: object;
  methodName: string | symbol;
  method: (...args: unknown[]) => unknown;
  declaredMethod: (handler: WebSocketHandler) => unknown;
  module: Module;
  description: string;
  handlerType: Type<WebSocketHandler>;
  options: ResolvedRouteOptions;
}

/**
 * One `@WebSocketRoute()`, as data: where it is declared, its options and its counters. Built once
 * at bootstrap by the explorer. The services that run it are kept by the step that uses them,
 * keyed by the route: the guards by `handshake/`, the `ws` server, handler factory and exception
 * filters by `connection/`.
 */
export class Route {
  readonly path: string;
  /** The controller instance whose method declares the route. */
  readonly controller: object;
  readonly methodName: string | symbol;
  /** The method Nest registers for the route (it carries the guards' and filters' metadata). */
  readonly method: (...args: unknown[]) => unknown;
  /** The decorated method as written: called with the handler once the connection is open. */
  readonly declaredMethod: (handler: WebSocketHandler) => unknown;
  /** The module that declares the controller: the handler's dependencies resolve there. */
  readonly module: Module;
  /** `Controller.method`, for messages. */
  readonly description: string;
  readonly handlerType: Type<WebSocketHandler>;
  readonly options: ResolvedRouteOptions;
  /**
   * The handler echoes with `EchoHandler`'s own `onMessage`: a message can then go back as the
   * Buffer it came in, without decoding text to a string and encoding it again.
   */
  readonly echoes: boolean;
  readonly counters: RouteCounters = emptyCounters();

  constructor(init: RouteInit) {
    this.path = init.path;
    this.controller = init.controller;
    this.methodName = init.methodName;
    this.method = init.method;
    this.declaredMethod = init.declaredMethod;
    this.module = init.module;
    this.description = init.description;
    this.handlerType = init.handlerType;
    this.options = init.options;
    this.echoes = init.handlerType.prototype.onMessage === EchoHandler.prototype.onMessage;
  }
}

/** Every bootstrap error names the route as the user wrote it: path and controller method. */
export function routeLabel(path: string, description: string): string {
  return `"${path}" (${description})`;
}
