import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage, Server } from 'node:http';
import { ConnectionLifecycle } from './connection/connection.lifecycle.js';
import { UpgradeDispatcher } from './connection/upgrade.dispatcher.js';
import { hasToken } from './handshake/handshake.validator.js';
import type { WsModuleOptions } from './interfaces/ws-module-options.interface.js';
import { WebSocketRegistry } from './registry/websocket.registry.js';
import { RouteExplorer } from './routing/route.explorer.js';
import type { RouteTable } from './routing/route-table.js';
import { WS_MODULE_OPTIONS } from './ws.module-definition.js';

/**
 * Binds the routes to the application's HTTP server and runs them from bootstrap to shutdown.
 *
 * Shutdown order on Nest 12: `beforeApplicationShutdown` -> HTTP server close ->
 * `onApplicationShutdown`. `server.close()` waits for upgraded sockets, so the 1001 close (after
 * each connection's queued messages) starts and is awaited before it; what is left is freed after.
 */
@Injectable()
export class WsHost implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger('WsModule');
  private dispatcher: UpgradeDispatcher | undefined;
  private table: RouteTable | undefined;

  constructor(
    private readonly explorer: RouteExplorer,
    private readonly lifecycle: ConnectionLifecycle,
    private readonly registry: WebSocketRegistry,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(WS_MODULE_OPTIONS) private readonly options: WsModuleOptions,
  ) {}

  /** The routes found at bootstrap. */
  get routes(): RouteTable | undefined {
    return this.table;
  }

  /** Refused handshakes by status, for `stats()`. */
  get rejections(): Record<number, number> {
    return this.dispatcher?.rejections ?? {};
  }

  // onModuleInit runs after Nest registered the app's HTTP routes and before its 404 handler, so the
  // 426 answers added here never shadow an HTTP route of the app.
  async onModuleInit(): Promise<void> {
    const adapter = this.adapterHost.httpAdapter;
    this.table = await this.explorer.explore();
    const server = adapter?.getHttpServer() as Server | undefined;
    if (!server || this.table.size === 0) return;
    this.dispatcher = new UpgradeDispatcher(
      this.table,
      this.lifecycle,
      this.options.maxTotalConnections ?? Infinity,
      () => this.registry.size,
    );
    this.dispatcher.attach(server);
    boundSlowHandshakes(server, this.options.handshakeTimeoutMs);
    const answer = (request: IncomingMessage, response: unknown) =>
      answerPlainRequest(adapter, request, response);
    for (const route of this.table.routes) adapter.get(route.path, answer);
    this.logger.log(
      `Mapped ${this.table.size} WebSocket route(s): ${this.table.routes.map((r) => r.path).join(', ')}`,
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.dispatcher?.stopAccepting();
    await this.lifecycle.closeAll(1001, 'server shutting down');
  }

  onApplicationShutdown(): void {
    this.lifecycle.dispose();
    this.dispatcher?.detach();
  }
}

/**
 * A handshake whose headers trickle in (slowloris) never reaches the `upgrade` event: Node's
 * `headersTimeout` (60 s, checked every `connectionsCheckingInterval`, 30 s) answers it `408`.
 * A module-level `handshakeTimeoutMs` lowers both (never raises them) so that bound is the option.
 * The interval is read when the server starts listening, which is after this module's init.
 */
function boundSlowHandshakes(server: Server, handshakeTimeoutMs: number | undefined): void {
  if (handshakeTimeoutMs === undefined || handshakeTimeoutMs <= 0) return;
  if (server.headersTimeout === 0 || server.headersTimeout > handshakeTimeoutMs)
    server.headersTimeout = handshakeTimeoutMs;
  const checking = server as Server & { connectionsCheckingInterval?: number };
  const interval = Math.max(100, Math.floor(handshakeTimeoutMs / 4));
  if (!server.listening && (checking.connectionsCheckingInterval ?? 30_000) > interval)
    checking.connectionsCheckingInterval = interval;
}

/**
 * A plain GET to a WebSocket route's path: RFC 6455 4.2.2 and RFC 7231 6.5.15 (`426`). Answered
 * through the adapter, so it works with Express's and Fastify's request and reply objects alike.
 */
function answerPlainRequest(
  adapter: HttpAdapterHost['httpAdapter'],
  request: Pick<IncomingMessage, 'headers'>,
  response: unknown,
): void {
  const upgradeOffered = hasToken(request.headers.upgrade, 'websocket');
  const status = upgradeOffered ? 400 : 426;
  const message = upgradeOffered
    ? 'Connection header must include "Upgrade"'
    : 'This path serves WebSocket connections only';
  if (!upgradeOffered) {
    adapter.setHeader(response, 'Upgrade', 'websocket');
    adapter.setHeader(response, 'Connection', 'Upgrade');
  }
  adapter.reply(
    response,
    { statusCode: status, message, error: upgradeOffered ? 'Bad Request' : 'Upgrade Required' },
    status,
  );
}
