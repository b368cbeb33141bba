import { Logger } from '@nestjs/common';
import type { IncomingMessage, Server } from 'node:http';
import { parse as parseQuery, type ParsedUrlQuery } from 'node:querystring';
import type { Duplex } from 'node:stream';
import { HandshakeRejection, writeRejection } from '../errors/handshake-rejection.js';
import {
  internalErrorRejection,
  malformedParamRejection,
  noRouteRejection,
  shuttingDownRejection,
  tooManyConnectionsRejection,
} from '../handshake.messages.js';
import type { AcceptHandshake } from '../interfaces/accepted-handshake.interface.js';
import type { HttpPlatform } from '../platform/http-platform.interface.js';
import { PlatformDispatcher, type HandshakeSteps } from '../platform/platform.dispatcher.js';
import type { Route } from '../routing/route.js';
import type { RouteTable } from '../routing/route-table.js';
import { stackOf } from '../util/errors.js';
import { destroySocket } from '../util/socket.js';
import { queryOf } from '../util/url.js';
import { DEFAULT_OPTIONS } from '../ws.constants.js';
import { handshakeCheckFailedMessage, upgradeFailedMessage } from '../ws.messages.js';
import type { HandshakeGuard } from './handshake.guard.js';
import {
  checkOrigin,
  negotiateProtocol,
  toOriginForm,
  validateUpgradeRequest,
} from './handshake.validator.js';
import { OriginFirstCheck } from './origin-first.js';

/** Counts of refused handshakes by HTTP status, read by `WebSocketRegistry.stats()`. */
export type RejectionCounts = Record<number, number>;

type UpgradeRequest = IncomingMessage & {
  params?: Record<string, string>;
  query?: ParsedUrlQuery;
};

/** What the handshake line is given at bootstrap. */
export interface UpgradeDispatcherInit {
  table: RouteTable;
  /** The end of the line: the connection step takes the socket (wired by `WsHost`). */
  accept: AcceptHandshake<Route>;
  /** The routes' guards on the standalone port (routes without guards have no entry). */
  guards: ReadonlyMap<Route, HandshakeGuard>;
  maxTotalConnections: number;
  openConnections: () => number;
  /** The app's HTTP platform; undefined on the standalone port (the route table decides there). */
  platform?: HttpPlatform;
  handshakeTimeoutMs?: number;
  /** The platform's app (Express's `app`, the Fastify instance), for its proxy-trust setting. */
  platformInstance?: unknown;
}

/**
 * Listens to a server's `upgrade` event and runs the handshake line: the RFC 6455 checks, the
 * origin, then on an HTTP app the platform's dispatch (middleware, hooks, router, Nest's guards and
 * filters) and on the standalone port the route table and the route's guards; then the route's
 * subprotocol, origin and capacity checks, and `accept`. A refused request gets an HTTP error and a
 * closed socket; a path with no route is left to the server's other `upgrade` listeners, or
 * answered 404 when there are none.
 */
export class UpgradeDispatcher implements HandshakeSteps {
  readonly rejections: RejectionCounts = {};
  private readonly logger = new Logger('WebSocketRoute');
  private readonly table: RouteTable;
  private readonly accept: AcceptHandshake<Route>;
  private readonly guards: ReadonlyMap<Route, HandshakeGuard>;
  private readonly maxTotalConnections: number;
  private readonly openConnections: () => number;
  private readonly platform: HttpPlatform | undefined;
  private readonly handshakeTimeoutMs: number;
  private readonly originFirst: OriginFirstCheck | undefined;
  private server: Server | undefined;
  private accepting = true;
  /** Handshakes inside their route's guards: shutdown answers them at once instead of waiting. */
  private readonly pending = new Set<Duplex>();
  private restoreEmit: (() => void) | undefined;
  private platformDispatcher: PlatformDispatcher | undefined;
  private listener: UpgradeListener | undefined;

  constructor(init: UpgradeDispatcherInit) {
    this.table = init.table;
    this.accept = init.accept;
    this.guards = init.guards;
    this.maxTotalConnections = init.maxTotalConnections;
    this.openConnections = init.openConnections;
    this.platform = init.platform;
    this.handshakeTimeoutMs = init.handshakeTimeoutMs ?? DEFAULT_OPTIONS.handshakeTimeoutMs;
    this.originFirst = init.platform
      ? new OriginFirstCheck(init.table, init.platform.hostnameReader(init.platformInstance))
      : undefined;
  }

  attach(server: Server): void {
    this.server = server;
    if (this.platform) {
      this.platformDispatcher = new PlatformDispatcher(
        server,
        this.platform,
        this.table,
        this,
        this.accept,
        this.handshakeTimeoutMs,
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
   * On an HTTP app: the RFC 6455 checks and the origin (nothing of the app runs for a malformed or
   * cross-site handshake), then the platform dispatches the request as a `GET` and its router
   * decides the route. When other `upgrade` listeners exist, only paths of our route table are taken.
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
    if (rejection) {
      this.reject(socket, rejection);
      return;
    }
    toOriginForm(request);
    const originAllowed = this.originFirst!.check(request);
    if (originAllowed instanceof HandshakeRejection) this.reject(socket, originAllowed);
    else
      this.platformDispatcher!.dispatch(
        request as IncomingMessage & Record<symbol, unknown>,
        socket,
        head,
        originAllowed,
      );
  };

  /**
   * On an HTTP app, once the platform's router chose the route: the subprotocol (the chosen one,
   * or why none fits), the origin unless it let the request in before the app, the limits.
   */
  checkRoute(
    route: Route,
    request: IncomingMessage,
    platformRequest: unknown,
    originAllowed: readonly Route[],
  ): string | HandshakeRejection {
    const protocol = negotiateProtocol(request, route.options);
    if (typeof protocol !== 'string') return protocol;
    const rejection =
      (originAllowed.includes(route)
        ? undefined
        : checkOrigin(request, route.options, () => this.platform!.hostname(platformRequest))) ??
      this.checkCapacity(route);
    return rejection ?? protocol;
  }

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
      this.reject(socket, noRouteRejection());
      return;
    }
    if (match.malformedParam !== undefined) {
      this.reject(socket, malformedParamRejection(match.malformedParam));
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
    request.params = params;
    const guard = this.guards.get(route);
    if (guard === undefined) {
      this.complete(route, request, socket, head, params, protocol as string);
      return;
    }
    // Express and Fastify parse the query the same way (repeated keys become arrays).
    request.query = parseQuery(queryOf(request.url));
    this.pending.add(socket);
    guard
      .check(request, socket)
      .then((refused) => {
        // Not pending any more: shutdown has answered it already.
        if (!this.pending.delete(socket) || socket.destroyed) return;
        // Capacity again: other handshakes may have completed while the guards ran.
        const late = refused ?? this.checkCapacity(route);
        if (late) this.reject(socket, late);
        else this.complete(route, request, socket, head, params, protocol as string);
      })
      .catch((error: unknown) => {
        this.pending.delete(socket);
        this.logger.error(upgradeFailedMessage(route.path), stackOf(error));
        socket.destroy();
      });
  };

  /** The route's connection limits (and shutdown); undefined when there is room. */
  checkCapacity(route: Route): HandshakeRejection | undefined {
    if (!this.accepting) return shuttingDownRejection();
    if (
      route.counters.open >= route.options.maxConnections ||
      this.openConnections() >= this.maxTotalConnections
    ) {
      return tooManyConnectionsRejection();
    }
    return undefined;
  }

  /** Standalone port: every check passed; the connection step takes the socket. */
  private complete(
    route: Route,
    request: UpgradeRequest,
    socket: Duplex,
    head: Buffer,
    params: Record<string, string>,
    protocol: string,
  ): void {
    socket.removeListener('error', destroySocket);
    this.accept(route, request, socket, head, params, request, protocol, undefined);
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
 * goes to us only; every other one reaches all listeners untouched. The server's `emit` is wrapped
 * only once another `upgrade` listener exists (`newListener`): an app without one dispatches its
 * requests, and our handshakes, through Node's own `emit`. Returns the undo.
 */
function shieldOwnPaths(
  server: Server,
  owns: (target: string) => boolean,
  onUpgrade: UpgradeListener,
): () => void {
  let unwrap: (() => void) | undefined;
  const onNewListener = (event: string | symbol) => {
    if (event === 'upgrade' && unwrap === undefined) unwrap = wrapEmit(server, owns, onUpgrade);
  };
  if (server.listenerCount('upgrade') > 1) unwrap = wrapEmit(server, owns, onUpgrade);
  server.on('newListener', onNewListener);
  return () => {
    server.removeListener('newListener', onNewListener);
    unwrap?.();
  };
}

/** Wraps the server's `emit` so that an upgrade of one of our paths reaches `onUpgrade` alone. */
function wrapEmit(
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
