import { Logger } from '@nestjs/common';
import type { IncomingMessage, Server } from 'node:http';
import { parse as parseQuery, type ParsedUrlQuery } from 'node:querystring';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import {
  HandshakeRejection,
  internalErrorRejection,
  shuttingDownRejection,
  writeRejection,
} from '../handshake/handshake-rejection.js';
import { kProtocol } from '../handshake/handshake.symbols.js';
import {
  checkOrigin,
  negotiateProtocol,
  validateUpgradeRequest,
} from '../handshake/handshake.validator.js';
import type { WebSocketRequest } from '../handler/websocket-handler.js';
import type { HttpPlatform } from '../platform/http-platform.interface.js';
import { PlatformDispatcher, type HandshakeSteps } from '../platform/platform.dispatcher.js';
import type { Route } from '../routing/route.js';
import { DEFAULT_OPTIONS } from '../ws.constants.js';
import type { RouteTable } from '../routing/route-table.js';
import {
  handshakeCheckFailedMessage,
  malformedParamMessage,
  upgradeFailedMessage,
} from '../ws.messages.js';
import { WebSocketCloseCode } from '../close-codes.js';
import { stackOf } from '../util/errors.js';
import { queryOf } from '../util/url.js';
import type { ConnectionLifecycle } from './connection.lifecycle.js';

/** Counts of refused handshakes by HTTP status, read by `WebSocketRegistry.stats()`. */
export type RejectionCounts = Record<number, number>;

type UpgradeRequest = IncomingMessage & {
  params?: Record<string, string>;
  query?: ParsedUrlQuery;
  [kProtocol]?: string;
};

/**
 * Listens to a server's `upgrade` event and runs the way of one connection: route lookup, RFC
 * checks, subprotocol, origin, limits, the route's Nest guards, then `ws`'s `handleUpgrade`.
 * A refused request gets an HTTP error and a closed socket; a path with no route is left to the
 * server's other `upgrade` listeners, or answered 404 when there are none.
 */
export class UpgradeDispatcher implements HandshakeSteps {
  readonly rejections: RejectionCounts = {};
  private readonly logger = new Logger('WebSocketRoute');
  private server: Server | undefined;
  private accepting = true;
  /** Handshakes inside their route's guards: shutdown answers them at once instead of waiting. */
  private readonly pending = new Set<Duplex>();
  private restoreEmit: (() => void) | undefined;
  private platformDispatcher: PlatformDispatcher | undefined;
  private listener: UpgradeListener | undefined;

  constructor(
    private readonly table: RouteTable,
    private readonly lifecycle: ConnectionLifecycle,
    private readonly maxTotalConnections: number,
    private readonly openConnections: () => number,
    /** The app's HTTP platform; undefined on the standalone port (the route table decides there). */
    private readonly platform?: HttpPlatform,
    private readonly handshakeTimeoutMs: number = DEFAULT_OPTIONS.handshakeTimeoutMs,
    /** The platform's app (Express's `app`, the Fastify instance), for its proxy-trust setting. */
    private readonly platformInstance?: unknown,
  ) {}

  attach(server: Server): void {
    this.server = server;
    if (this.platform) {
      this.platformDispatcher = new PlatformDispatcher(
        server,
        this.platform,
        this.table,
        this,
        this.handshakeTimeoutMs,
        this.platformInstance,
      );
    }
    this.listener = this.platformDispatcher ? this.onPlatformUpgrade : this.onUpgrade;
    server.on('upgrade', this.listener);
    // On an HTTP app the platform's router decides (any path syntax); on the standalone port, the table.
    const owns = this.platformDispatcher
      ? (target: string) => this.table.owns(target)
      : (target: string) => this.table.match(target) !== undefined;
    this.restoreEmit = shieldOwnPaths(server, owns, this.listener);
  }

  /**
   * Shutdown: new handshakes are answered 503 from now on, and so, at once, is every handshake still
   * inside its guards or the app's dispatch (`server.close()` would otherwise wait for it up to
   * `handshakeTimeoutMs`); what such a guard decides later changes nothing.
   */
  stopAccepting(): void {
    this.accepting = false;
    for (const socket of this.pending) this.reject(socket, shuttingDownRejection());
    this.pending.clear();
    this.platformDispatcher?.answerAll(shuttingDownRejection());
  }

  count(status: number): void {
    this.rejections[status] = (this.rejections[status] ?? 0) + 1;
  }

  /**
   * On an HTTP app: the RFC 6455 checks (nothing of the app runs for a malformed handshake), then
   * the platform dispatches the request as a `GET` and its router decides the route. When other
   * `upgrade` listeners exist, only paths of our route table are taken.
   */
  private readonly onPlatformUpgrade = (
    request: UpgradeRequest,
    socket: Duplex,
    head: Buffer,
  ): void => {
    if (this.server && this.server.listenerCount('upgrade') > 1) {
      if (!this.table.owns(request.url ?? '/')) return;
    }
    socket.on('error', destroySocket);
    const rejection =
      validateUpgradeRequest(request) ?? (this.accepting ? undefined : shuttingDownRejection());
    if (rejection) this.reject(socket, rejection);
    else
      this.platformDispatcher!.dispatch(
        request as IncomingMessage & Record<symbol, unknown>,
        socket,
        head,
      );
  };

  detach(): void {
    this.restoreEmit?.();
    this.restoreEmit = undefined;
    if (this.listener) this.server?.removeListener('upgrade', this.listener);
    this.server = undefined;
  }

  private readonly onUpgrade = (request: UpgradeRequest, socket: Duplex, head: Buffer): void => {
    const match = this.table.match(request.url ?? '/');
    if (!match) {
      // Someone else may own this path (another gateway, a dev server): leave it to them.
      if (this.server && this.server.listenerCount('upgrade') > 1) return;
      this.reject(socket, new HandshakeRejection(404, 'No WebSocket route at this path'));
      return;
    }
    if (match.malformedParam !== undefined) {
      this.reject(socket, new HandshakeRejection(400, malformedParamMessage(match.malformedParam)));
      return;
    }
    socket.on('error', destroySocket);
    const { route, params } = match;
    // The RFC checks and the subprotocol (the chosen one, or why none fits), the origin, the limits.
    let protocol: string | HandshakeRejection;
    try {
      protocol = validateUpgradeRequest(request) ?? negotiateProtocol(request, route.options);
    } catch (error) {
      // a `selectProtocol` that throws: nothing may escape into the server's 'upgrade' event
      this.logger.error(handshakeCheckFailedMessage(route.path), stackOf(error));
      this.reject(socket, internalErrorRejection());
      return;
    }
    const rejection =
      typeof protocol === 'string'
        ? (checkOrigin(request, route.options) ?? this.checkCapacity(route))
        : protocol;
    if (rejection) {
      this.reject(socket, rejection);
      return;
    }
    request[kProtocol] = protocol as string;
    request.params = params;
    if (!route.guard) {
      this.complete(route, request, socket, head, params, request);
      return;
    }
    // Express and Fastify parse the query the same way (repeated keys become arrays).
    request.query = parseQuery(queryOf(request.url));
    this.pending.add(socket);
    route.guard
      .check(request, socket)
      .then((refused) => {
        // Not pending any more: shutdown has answered it already.
        if (!this.pending.delete(socket) || socket.destroyed) return;
        // Capacity again: other handshakes may have completed while the guards ran.
        const late = refused ?? this.checkCapacity(route);
        if (late) this.reject(socket, late);
        else this.complete(route, request, socket, head, params, request);
      })
      .catch((error: unknown) => {
        this.pending.delete(socket);
        this.logger.error(upgradeFailedMessage(route.path), stackOf(error));
        socket.destroy();
      });
  };

  checkCapacity(route: Route): HandshakeRejection | undefined {
    if (!this.accepting) return shuttingDownRejection();
    if (
      route.counters.open >= route.options.maxConnections ||
      this.openConnections() >= this.maxTotalConnections
    ) {
      return new HandshakeRejection(503, 'Too many WebSocket connections', { 'Retry-After': '5' });
    }
    return undefined;
  }

  complete(
    route: Route,
    request: UpgradeRequest,
    socket: Duplex,
    head: Buffer,
    params: Record<string, string>,
    httpRequest: unknown,
  ): void {
    socket.removeListener('error', destroySocket);
    route.server.handleUpgrade(request, socket, head, (webSocket: WebSocket) => {
      try {
        this.lifecycle.open(route, webSocket, httpRequest as WebSocketRequest, params);
      } catch (error) {
        // A handler constructor threw: nothing may escape into the server's 'upgrade' event.
        this.logger.error(upgradeFailedMessage(route.path), stackOf(error));
        webSocket.close(WebSocketCloseCode.INTERNAL_ERROR, 'Internal error');
      }
    });
  }

  private reject(socket: Duplex, rejection: HandshakeRejection): void {
    this.count(rejection.status);
    writeRejection(socket, rejection);
  }
}

type UpgradeListener = (request: UpgradeRequest, socket: Duplex, head: Buffer) => void;

/**
 * Other `upgrade` listeners may destroy the sockets of paths they do not own (`@nestjs/platform-ws`'s
 * `WsAdapter` does), whether they were added before or after us. So an upgrade for one of our paths
 * goes to us only; every other one reaches all listeners untouched. Only checked when there are
 * other listeners. Returns the undo.
 */
function shieldOwnPaths(
  server: Server,
  owns: (target: string) => boolean,
  onUpgrade: UpgradeListener,
): () => void {
  const emit = server.emit as (this: Server, ...args: unknown[]) => boolean;
  let active = true;
  // Every event of the server passes here: no rest arrays, `arguments` is handed on as it is.
  const shielded = function (
    this: Server,
    event: string | symbol,
    request?: IncomingMessage,
    socket?: Duplex,
    head?: Buffer,
  ): boolean {
    if (
      event === 'upgrade' &&
      active &&
      server.listenerCount('upgrade') > 1 &&
      owns(request!.url ?? '/')
    ) {
      onUpgrade(request!, socket!, head!);
      return true;
    }
    // oxlint-disable-next-line prefer-rest-params
    return Reflect.apply(emit, this, arguments);
  } as Server['emit'];
  server.emit = shielded;
  return () => {
    active = false;
    // Someone may have wrapped emit after us: then ours stays in their chain, inactive.
    if (server.emit === shielded) server.emit = emit as Server['emit'];
  };
}

function destroySocket(this: Duplex): void {
  this.destroy();
}
