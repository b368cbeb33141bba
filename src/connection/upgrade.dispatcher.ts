import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { HandshakeRejection, writeRejection } from '../handshake/handshake-rejection.js';
import { kProtocol } from '../handshake/handshake.symbols.js';
import {
  checkOrigin,
  negotiateProtocol,
  validateUpgradeRequest,
} from '../handshake/handshake.validator.js';
import type { Route } from '../routing/route.js';
import type { RouteTable } from '../routing/route-table.js';
import type { ConnectionLifecycle } from './connection.lifecycle.js';

/** Counts of refused handshakes by HTTP status, read by `WebSocketRegistry.stats()`. */
export type RejectionCounts = Record<number, number>;

type UpgradeRequest = IncomingMessage & {
  params?: Record<string, string>;
  query?: Record<string, string>;
  [kProtocol]?: string;
};

/**
 * Listens to a server's `upgrade` event and runs the way of one connection: route lookup, RFC
 * checks, origin, limits, subprotocol, the route's Nest guards, then `ws`'s `handleUpgrade`.
 * A refused request gets an HTTP error and a closed socket; a path with no route is left to the
 * server's other `upgrade` listeners, or answered 404 when there are none.
 */
export class UpgradeDispatcher {
  readonly rejections: RejectionCounts = {};
  private server: Server | undefined;
  private accepting = true;
  private restoreEmit: (() => void) | undefined;

  constructor(
    private readonly table: RouteTable,
    private readonly lifecycle: ConnectionLifecycle,
    private readonly maxTotalConnections: number,
    private readonly openConnections: () => number,
  ) {}

  attach(server: Server): void {
    this.server = server;
    server.on('upgrade', this.onUpgrade);
    this.restoreEmit = shieldOwnPaths(server, this.table, this.onUpgrade);
  }

  /** New handshakes are answered 503 from now on (shutdown). */
  stopAccepting(): void {
    this.accepting = false;
  }

  detach(): void {
    this.restoreEmit?.();
    this.restoreEmit = undefined;
    this.server?.removeListener('upgrade', this.onUpgrade);
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
    socket.on('error', destroySocket);
    const { route, params } = match;
    const rejection =
      validateUpgradeRequest(request) ??
      checkOrigin(request, route.options) ??
      this.checkCapacity(route);
    if (rejection) {
      this.reject(socket, rejection);
      return;
    }
    const protocol = negotiateProtocol(request, route.options);
    if (protocol instanceof HandshakeRejection) {
      this.reject(socket, protocol);
      return;
    }
    request[kProtocol] = protocol;
    request.params = params;
    if (!route.guard) {
      this.complete(route, request, socket, head, params);
      return;
    }
    request.query = Object.fromEntries(new URLSearchParams(queryOf(request.url)));
    route.guard.check(request, socket).then((refused) => {
      if (refused) this.reject(socket, refused);
      else if (!this.accepting) this.reject(socket, shuttingDown());
      else if (socket.destroyed) return;
      else this.complete(route, request, socket, head, params);
    });
  };

  private checkCapacity(route: Route): HandshakeRejection | undefined {
    if (!this.accepting) return shuttingDown();
    if (
      route.counters.open >= route.options.maxConnections ||
      this.openConnections() >= this.maxTotalConnections
    ) {
      return new HandshakeRejection(503, 'Too many WebSocket connections', { 'Retry-After': '5' });
    }
    return undefined;
  }

  private complete(
    route: Route,
    request: UpgradeRequest,
    socket: Duplex,
    head: Buffer,
    params: Record<string, string>,
  ): void {
    socket.removeListener('error', destroySocket);
    route.server.handleUpgrade(request, socket, head, (webSocket: WebSocket) => {
      this.lifecycle.open(route, webSocket, request, params);
    });
  }

  private reject(socket: Duplex, rejection: HandshakeRejection): void {
    this.rejections[rejection.status] = (this.rejections[rejection.status] ?? 0) + 1;
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
function shieldOwnPaths(server: Server, table: RouteTable, onUpgrade: UpgradeListener): () => void {
  const emit = server.emit as (this: Server, ...args: unknown[]) => boolean;
  let active = true;
  const shielded = function (this: Server, event: string | symbol, ...args: unknown[]): boolean {
    if (
      active &&
      event === 'upgrade' &&
      server.listenerCount('upgrade') > 1 &&
      table.match((args[0] as IncomingMessage).url ?? '/')
    ) {
      onUpgrade(args[0] as UpgradeRequest, args[1] as Duplex, args[2] as Buffer);
      return true;
    }
    return emit.apply(this, [event, ...args]);
  } as Server['emit'];
  server.emit = shielded;
  return () => {
    active = false;
    // Someone may have wrapped emit after us: then ours stays in their chain, inactive.
    if (server.emit === shielded) server.emit = emit as Server['emit'];
  };
}

function shuttingDown(): HandshakeRejection {
  return new HandshakeRejection(503, 'Server is shutting down', { 'Retry-After': '5' });
}

function queryOf(url: string | undefined): string {
  const at = url?.indexOf('?') ?? -1;
  return at === -1 ? '' : url!.slice(at + 1);
}

function destroySocket(this: Duplex): void {
  this.destroy();
}
