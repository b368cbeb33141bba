import { Module, type DynamicModule, type NestModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ConnectionLifecycle } from './connection/connection.lifecycle.js';
import { WebSocketRegistry } from './registry/websocket.registry.js';
import { RouteExplorer } from './routing/route.explorer.js';
import { WsServer } from './server/ws-server.js';
import { WsHost } from './ws.host.js';
import { ConfigurableWsModule, WS_MODULE_OPTIONS_TYPE } from './ws.module-definition.js';

/**
 * Serves the application's `@WebSocketRoute()`s. Import it once, in the root module:
 * `WsModule.forRoot(options?)` or `WsModule.forRootAsync({ imports, inject, useFactory })`.
 * It is global: `WebSocketRegistry` and `WsServer` can be injected anywhere. With `port`, the routes
 * are served from a server of their own on that port, with or without an HTTP adapter.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [WebSocketRegistry, ConnectionLifecycle, RouteExplorer, WsHost, WsServer],
  exports: [WebSocketRegistry, WsServer],
})
export class WsModule extends ConfigurableWsModule implements NestModule {
  constructor(private readonly host: WsHost) {
    super();
  }

  /** Nest calls it before registering the app's routes, the WebSocket routes among them. */
  configure(): void {
    this.host.preparePlatform();
  }

  /** Serves the routes with these options as every route's defaults. */
  static override forRoot(options: typeof WS_MODULE_OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }
}
