import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import {
  ApplicationConfig,
  ExternalContextCreator,
  HttpAdapterHost,
  ModulesContainer,
} from '@nestjs/core';
import type { Server } from 'node:http';
import { WebSocketCloseCode } from './close-codes.js';
import { ConnectionLifecycle } from './connection/connection.lifecycle.js';
import { writeRejection } from './errors/handshake-rejection.js';
import { shuttingDownRejection } from './handshake.messages.js';
import { createHandshakeGuards, type HandshakeGuard } from './handshake/handshake.guard.js';
import { UpgradeDispatcher } from './handshake/upgrade.dispatcher.js';
import { answerPlainRequest, servePlainRequests } from './handshake/plain-request.js';
import { boundSlowHandshakes } from './handshake/slow-handshakes.js';
import type { WsModuleOptions } from './interfaces/ws-module-options.interface.js';
import { WebSocketRegistry } from './registry/websocket.registry.js';
import { RouteExplorer } from './routing/route.explorer.js';
import { createRoutePaths } from './routing/route-paths.js';
import type { RouteTable } from './routing/route-table.js';
import type { Route } from './routing/route.js';
import { closeServer, createStandaloneServer, listen } from './server/standalone-server.js';
import { requestsStillArriving } from './server/http-connections.js';
import { httpPlatformOf } from './platform/http-platform.factory.js';
import { WsServer } from './server/ws-server.js';
import { WS_MODULE_OPTIONS } from './ws.module-definition.js';
import { listenFailedMessage, noServerMessage } from './ws.messages.js';

/**
 * Binds the routes to the application's HTTP server, or to a server of their own with the `port`
 * option, and runs them from bootstrap to shutdown. It wires the line of one connection: the
 * handshake step (`UpgradeDispatcher`, with the routes' guards on the standalone port) ends in
 * `ConnectionLifecycle.accept`.
 *
 * Shutdown order on Nest 12: `beforeApplicationShutdown` -> HTTP server close ->
 * `onApplicationShutdown`. `server.close()` waits for upgraded sockets, so the 1001 close (after
 * each connection's queued messages) starts and is awaited before it; what is left is freed after.
 */
@Injectable()
export class WsHost
  implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger('WsModule');
  private dispatcher: UpgradeDispatcher | undefined;
  private table: RouteTable | undefined;
  private standalone: Server | undefined;
  /** The routes' handshake guards on the standalone port (none on an HTTP app: Nest runs them). */
  private guards: ReadonlyMap<Route, HandshakeGuard> = new Map();

  constructor(
    private readonly explorer: RouteExplorer,
    private readonly lifecycle: ConnectionLifecycle,
    private readonly registry: WebSocketRegistry,
    private readonly adapterHost: HttpAdapterHost,
    private readonly applicationConfig: ApplicationConfig,
    private readonly modules: ModulesContainer,
    private readonly contextCreator: ExternalContextCreator,
    private readonly wsServer: WsServer,
    @Inject(WS_MODULE_OPTIONS) private readonly options: WsModuleOptions,
  ) {}

  /** The routes found at bootstrap. */
  get routes(): RouteTable | undefined {
    return this.table;
  }

  /** The routes that run guards in the handshake step (standalone port only). */
  get handshakeGuards(): ReadonlyMap<Route, HandshakeGuard> {
    return this.guards;
  }

  /** Refused handshakes by status, for `stats()`. */
  get rejections(): Record<number, number> {
    return this.dispatcher?.rejections ?? {};
  }

  /**
   * Called from `WsModule.configure()`, which Nest runs inside `app.init()` before it registers
   * the app's routes: the platform gets ready for the WebSocket routes (Fastify's constraint).
   */
  preparePlatform(): void {
    const ownPort = this.options.port !== undefined;
    const adapter = this.adapterHost.httpAdapter;
    if (adapter && !ownPort) {
      this.explorer.assertUniquePaths(createRoutePaths(this.modules, this.applicationConfig), true);
    }
    // With `port` too: the WebSocket routes are GET routes of the app (their constraint must exist).
    httpPlatformOf(adapter)?.prepare(adapter?.getInstance());
  }

  // onModuleInit runs inside app.init(): after setGlobalPrefix()/enableVersioning(), after Nest
  // registered the app's HTTP routes and before its 404 handler, so the 426 answers added here never
  // shadow an HTTP route of the app.
  async onModuleInit(): Promise<void> {
    const ownPort = this.options.port !== undefined;
    const adapter = ownPort ? undefined : this.adapterHost.httpAdapter;
    // The global prefix and versioning belong to the HTTP app: a standalone server has neither.
    this.table = this.explorer.explore(
      createRoutePaths(this.modules, adapter ? this.applicationConfig : undefined),
      adapter !== undefined,
      this.options,
    );
    this.registry.attachStatsSource(this);
    if (this.table.size === 0) return;
    await this.lifecycle.prepare(this.table.routes);
    if (!adapter) this.guards = createHandshakeGuards(this.contextCreator, this.table.routes);
    const server = ownPort
      ? (this.standalone = createStandaloneServer(this.options, answerPlainRequest))
      : (adapter?.getHttpServer() as Server | undefined);
    if (!server) {
      this.logger.warn(noServerMessage(this.table.size));
      return;
    }
    this.dispatcher = new UpgradeDispatcher({
      table: this.table,
      accept: this.lifecycle.accept,
      guards: this.guards,
      maxTotalConnections: this.options.maxTotalConnections ?? Infinity,
      openConnections: () => this.registry.size,
      platform: httpPlatformOf(adapter),
      handshakeTimeoutMs: this.options.handshakeTimeoutMs,
      platformInstance: adapter?.getInstance(),
    });
    this.dispatcher.attach(server);
    this.wsServer.bind(server, ownPort);
    boundSlowHandshakes(server, this.options.handshakeTimeoutMs);
    if (adapter) {
      servePlainRequests(
        adapter,
        this.table.routes.map((route) => route.path),
      );
    }
    this.logger.log(
      `Mapped ${this.table.size} WebSocket route(s): ${this.table.routes.map((r) => r.path).join(', ')}`,
    );
  }

  // After every module's onModuleInit, so handlers' dependencies are ready for the first client.
  async onApplicationBootstrap(): Promise<void> {
    if (!this.standalone) return;
    const { port = 0, host } = this.options;
    await listen(this.standalone, port, host).catch((error: Error) => {
      throw new Error(listenFailedMessage(port, host, error.message), { cause: error });
    });
    this.logger.log(`WebSocket routes listening on ${this.wsServer.url()}`);
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.dispatcher?.stopAccepting();
    // Requests whose headers are still arriving would hold the server's close: answer them now.
    const server = this.wsServer.httpServer as Server | undefined;
    if (server) {
      for (const socket of requestsStillArriving(server)) {
        writeRejection(socket, shuttingDownRejection());
      }
    }
    await this.lifecycle.closeAll(WebSocketCloseCode.GOING_AWAY, 'server shutting down');
    if (this.standalone) await closeServer(this.standalone);
  }

  onApplicationShutdown(): void {
    this.lifecycle.dispose();
    this.dispatcher?.detach();
  }
}
