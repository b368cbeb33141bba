import {
  Controller,
  Module,
  type INestApplicationContext,
  type LoggerService,
  type LogLevel,
  type ModuleMetadata,
  type Provider,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { WebSocketRoute } from './decorators/websocket-route.decorator.js';
import type { WebSocketHandler } from './handler/websocket-handler.js';
import type { WsModuleOptions } from './interfaces/ws-module-options.interface.js';
import { WebSocketRegistry } from './registry/websocket.registry.js';
import { WsModule } from './ws.module.js';
import { WsServer } from './server/ws-server.js';

/** Options of `serveWebSockets()`: `WsModule`'s options (`port` defaults to `0`) and the routes. */
export interface ServeWebSocketsOptions extends WsModuleOptions {
  /** Path -> handler class, e.g. `{ '/': EchoHandler, '/chat/:room': ChatHandler }`. */
  routes: Record<string, Type<WebSocketHandler>>;
  /** Providers the handlers' constructors need. */
  providers?: Provider[];
  /** Modules whose exports the handlers' constructors need. */
  imports?: ModuleMetadata['imports'];
  /** Nest's logger option. Default: Nest's logger. */
  logger?: LoggerService | LogLevel[] | false;
}

/** What `serveWebSockets()` started. */
export interface ServedWebSockets {
  /** The Nest application context that runs the routes. */
  readonly app: INestApplicationContext;
  /** Its registry: every live connection. */
  readonly registry: WebSocketRegistry;
  /** The bound address (the real port when `port` was `0`). */
  address(): AddressInfo;
  /** `ws://` (or `wss://`) URL of `path` on the server. */
  url(path?: string): string;
  /** Closes every connection with 1001, then the server and the context. */
  close(): Promise<void>;
}

/**
 * The smallest server: boots a Nest application context (no HTTP adapter) that serves `routes` on a
 * port of its own, as ws4py's `WebSocketServer(('127.0.0.1', 9001), websocket_class=EchoWebSocket)`.
 * For scripts and tests; an application uses `WsModule.forRoot({ port })`.
 *
 * @example
 * ```ts
 * const server = await serveWebSockets({ port: 9001, routes: { '/': EchoHandler } });
 * console.log(server.url()); // ws://localhost:9001/
 * await server.close();
 * ```
 */
export async function serveWebSockets(options: ServeWebSocketsOptions): Promise<ServedWebSockets> {
  const { routes, providers = [], imports = [], logger, ...moduleOptions } = options;
  @Module({
    imports: [WsModule.forRoot({ ...moduleOptions, port: moduleOptions.port ?? 0 }), ...imports],
    controllers: [createRoutesController(routes)],
    providers,
  })
  class ServeWebSocketsModule {}
  // A script or a test gets a rejected promise, not an aborted process.
  const app = await NestFactory.createApplicationContext(ServeWebSocketsModule, {
    abortOnError: false,
    ...(logger === undefined ? {} : { logger }),
  });
  const server = app.get(WsServer);
  return {
    app,
    registry: app.get(WebSocketRegistry),
    address: () => server.address()!,
    url: (path) => server.url(path),
    close: () => app.close(),
  };
}

/** A controller with one `@WebSocketRoute()` method per entry of `routes`. */
function createRoutesController(routes: ServeWebSocketsOptions['routes']): Type {
  class WebSocketRoutesController {}
  const prototype = WebSocketRoutesController.prototype as unknown as Record<string, unknown>;
  Object.entries(routes).forEach(([path, handler], index) => {
    const name = `route${index}`;
    // A distinct function per route: @WebSocketRoute() stores its metadata on the function.
    const descriptor: PropertyDescriptor = {
      value: routeMethod.bind(undefined),
      configurable: true,
    };
    // As TypeScript applies a method decorator: the descriptor it returns is defined.
    Object.defineProperty(
      prototype,
      name,
      WebSocketRoute(path, handler)(prototype, name, descriptor) ?? descriptor,
    );
  });
  Controller()(WebSocketRoutesController);
  return WebSocketRoutesController;
}

function routeMethod(): void {}
