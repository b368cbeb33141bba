import { HttpException, Logger } from '@nestjs/common';
import {
  ServerResponse,
  STATUS_CODES,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
} from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { HandshakeRejection, writeRejection } from '../handshake/handshake-rejection.js';
import { kPendingHandshake, kProtocol, kUpgradeHeaders } from '../handshake/handshake.symbols.js';
import { checkOrigin, negotiateProtocol } from '../handshake/handshake.validator.js';
import type { PendingHandshake } from '../interfaces/pending-handshake.interface.js';
import type { Route } from '../routing/route.js';
import type { RouteTable } from '../routing/route-table.js';
import { CoarseTimeouts, type TimeoutLane } from '../util/coarse-timeouts.js';
import { stackOf } from '../util/errors.js';
import { WEBSOCKET_HANDSHAKE } from '../ws.constants.js';
import { dispatchFailedMessage, handshakeTimedOutReason } from '../ws.messages.js';
import type { HostnameReader, HttpPlatform } from './http-platform.interface.js';
import { upgradeHeaderLines } from './upgrade-headers.js';

/** What the platform dispatch needs of the connection step around it. */
export interface HandshakeSteps {
  /** The route's connection limits (and shutdown); undefined when there is room. */
  checkCapacity(route: Route): HandshakeRejection | undefined;
  /** Hands the socket to `ws` and opens the connection. */
  complete(
    route: Route,
    request: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    params: Record<string, string>,
    httpRequest: unknown,
  ): void;
  /** Counts an answered (refused) handshake by status. */
  count(status: number): void;
}

type UpgradeRequest = IncomingMessage & Record<symbol, unknown>;

const NO_ROUTES: readonly Route[] = [];

/** One handshake while the platform dispatches it. */
class PlatformHandshake implements PendingHandshake {
  settled = false;
  timer: TimeoutLane<PlatformHandshake> | undefined;
  /** The socket's `close` listener, removed once settled: an open connection must not keep this. */
  onClose: (() => void) | undefined;
  /** The routes whose origin rule let the request in before the app saw it. */
  originAllowed: readonly Route[] = NO_ROUTES;

  constructor(
    private readonly dispatcher: PlatformDispatcher,
    readonly request: UpgradeRequest,
    readonly socket: Duplex,
    readonly head: Buffer,
    readonly response: ServerResponse,
  ) {}

  upgrade(controller: object, methodName: string | symbol, request: unknown, response: unknown) {
    this.dispatcher.upgrade(this, controller, methodName, request, response);
  }
}

/**
 * Dispatches a valid upgrade request into the app as a request of its platform (Express, Fastify):
 * a `ServerResponse` on the socket (`Connection: close`, so any answer ends the exchange), then
 * the server's `request` listeners, i.e. the app's middleware, hooks and router, then the route's
 * Nest guards, interceptors and filters. The WebSocket route's handler calls back `upgrade()`.
 * `handshakeTimeoutMs` bounds it all; a client that leaves meanwhile costs nothing more.
 */
export class PlatformDispatcher {
  /** Handshakes being dispatched, answered at shutdown. */
  readonly pending = new Set<PlatformHandshake>();
  private readonly logger = new Logger('WebSocketRoute');
  /** `handshakeTimeoutMs`: one shared interval per delay, not a Node timer per handshake. */
  private readonly timeouts = new CoarseTimeouts<PlatformHandshake>((handshake) =>
    this.timeOut(handshake),
  );

  /** The host name as the platform will see it, read before it sees the request. */
  private readonly readHostname: HostnameReader | undefined;
  /** Whether a route has `allowedOrigins` (else a request without `Origin` passes every rule). */
  private readonly originPredicates: boolean;

  constructor(
    private readonly server: Server,
    private readonly platform: HttpPlatform,
    private readonly table: RouteTable,
    private readonly steps: HandshakeSteps,
    private readonly defaultTimeoutMs: number,
    /** The platform's app (Express's `app`, the Fastify instance). */
    instance?: unknown,
  ) {
    this.readHostname = platform.hostnameReader(instance);
    this.originPredicates = table.routes.some((route) => route.options.allowedOrigins);
  }

  dispatch(request: UpgradeRequest, socket: Duplex, head: Buffer): void {
    toOriginForm(request);
    const originAllowed = this.checkOriginFirst(request);
    if (originAllowed instanceof HandshakeRejection) {
      this.steps.count(originAllowed.status);
      writeRejection(socket, originAllowed);
      return;
    }
    const response = new ServerResponse(request);
    response.shouldKeepAlive = false;
    response.assignSocket(socket as Socket);
    const handshake = new PlatformHandshake(this, request, socket, head, response);
    handshake.originAllowed = originAllowed;
    request[kPendingHandshake] = handshake;
    request[WEBSOCKET_HANDSHAKE] = true;
    // declared before the platform sees the request: see `HttpPlatform.admit`
    request[kProtocol] = undefined;
    request[kUpgradeHeaders] = undefined;
    this.platform.admit(request, response);
    const timeoutMs =
      this.table.handshakeTimeoutMs ??
      this.table.likelyRoute(request.url ?? '/')?.options.handshakeTimeoutMs ??
      this.defaultTimeoutMs;
    // `on`, not `once`: each fires at most once here, and `settle()` removes the socket's
    response.on('finish', () => this.answered(handshake));
    try {
      this.server.emit('request', request, response);
    } catch (error) {
      this.logger.error(dispatchFailedMessage(request.url), stackOf(error));
      this.settle(handshake);
      socket.destroy();
      return;
    }
    // Without async middleware, hooks or guards the handshake is through by now. Only one still
    // under way needs the shutdown list, the timeout and the socket's `close` listener: none of
    // them could have fired during the synchronous dispatch anyway.
    if (!handshake.settled) this.track(handshake, timeoutMs);
  }

  /** A handshake the app is still dispatching (async): answered at shutdown, timeout, or freed when the client leaves. */
  private track(handshake: PlatformHandshake, timeoutMs: number): void {
    this.pending.add(handshake);
    handshake.timer = this.timeouts.add(handshake, timeoutMs);
    handshake.onClose = () => this.settle(handshake);
    handshake.socket.on('close', handshake.onClose);
  }

  /**
   * The origin check before any code of the app (middleware, hooks, router, guards): a refused
   * origin costs the app nothing (no guard's budget, no session touched). The route is not known
   * yet, so every route whose pattern may take the path is asked (usually one): the request is
   * refused when all refuse; the routes that let it in are returned, and a route the platform's
   * router picks outside them is checked in `upgrade()`.
   */
  private checkOriginFirst(request: UpgradeRequest): readonly Route[] | HandshakeRejection {
    const readHostname = this.readHostname;
    if (readHostname === undefined) return NO_ROUTES;
    if (request.headers.origin === undefined && !this.originPredicates) return NO_ROUTES;
    const candidates = this.table.candidates(request.url ?? '/');
    if (candidates.length === 0) return NO_ROUTES;
    let refusal: HandshakeRejection | undefined;
    let hostname: string | undefined;
    let read = false;
    const hostnameOnce = () => {
      if (!read) hostname = readHostname(request);
      read = true;
      return hostname;
    };
    const allowed = candidates.filter((route) => {
      const rejection = checkOrigin(request, route.options, hostnameOnce);
      refusal ??= rejection;
      return rejection === undefined;
    });
    return allowed.length === 0 && refusal !== undefined ? refusal : allowed;
  }

  /** Called by the route's handler once the app let the handshake through. */
  upgrade(
    handshake: PlatformHandshake,
    controller: object,
    methodName: string | symbol,
    request: unknown,
    response: unknown,
  ): void {
    const { platform } = this;
    if (handshake.settled) {
      platform.hijack(response);
      return;
    }
    const route = this.table.routeOf(controller, methodName, platform.routePath(request));
    const raw = handshake.request;
    const protocol = negotiateProtocol(raw, route.options);
    const rejection =
      typeof protocol === 'string'
        ? ((handshake.originAllowed.includes(route)
            ? undefined
            : checkOrigin(raw, route.options, () => platform.hostname(request))) ??
          this.steps.checkCapacity(route))
        : protocol;
    if (rejection) throw this.toException(handshake, rejection);
    raw[kProtocol] = protocol;
    platform.commit(response, handshake.response, (headers) =>
      this.open(handshake, route, request, response, headers),
    );
  }

  /** The platform answered 101 (its hooks may have taken a while): `ws` takes the socket. */
  private open(
    handshake: PlatformHandshake,
    route: Route,
    request: unknown,
    response: unknown,
    headers: OutgoingHttpHeaders,
  ): void {
    const { platform } = this;
    // Meanwhile the client may have left, or a timeout or shutdown answered it.
    if (handshake.settled) {
      platform.hijack(response);
      return;
    }
    const { request: raw, socket, head } = handshake;
    raw[kPendingHandshake] = undefined;
    this.settle(handshake);
    handshake.response.detachSocket(socket as Socket);
    raw[kUpgradeHeaders] = upgradeHeaderLines(headers);
    platform.hijack(response);
    platform.release(raw);
    this.steps.complete(route, raw, socket, head, platform.params(request), request);
  }

  /** Shutdown: every handshake still being dispatched is answered `rejection`. */
  answerAll(rejection: HandshakeRejection): void {
    for (const handshake of this.pending) this.interrupt(handshake, rejection);
  }

  private timeOut(handshake: PlatformHandshake): void {
    this.interrupt(
      handshake,
      new HandshakeRejection(503, handshakeTimedOutReason, { 'Retry-After': '1' }),
    );
  }

  /** Answers on the socket itself, whatever the app is still doing with the request. */
  private interrupt(handshake: PlatformHandshake, rejection: HandshakeRejection): void {
    if (handshake.settled) return;
    this.settle(handshake);
    const { response, socket } = handshake;
    response.detachSocket(socket as Socket);
    if (response.headersSent) {
      socket.destroy();
      return;
    }
    this.steps.count(rejection.status);
    writeRejection(socket, rejection);
  }

  /** The app answered (middleware, hook, guard, filter, not found): the socket closes after it. */
  private answered(handshake: PlatformHandshake): void {
    if (handshake.settled) return;
    this.settle(handshake);
    const { response, socket } = handshake;
    this.steps.count(response.statusCode);
    response.detachSocket(socket as Socket);
    socket.once('finish', () => socket.destroy());
    socket.end();
  }

  private settle(handshake: PlatformHandshake): void {
    handshake.settled = true;
    handshake.timer?.delete(handshake);
    this.pending.delete(handshake);
    if (handshake.onClose) handshake.socket.removeListener('close', handshake.onClose);
    handshake.onClose = undefined;
  }

  /** A route check refused: the app's exception filters render it, with its headers. */
  private toException(handshake: PlatformHandshake, rejection: HandshakeRejection): HttpException {
    for (const [name, value] of Object.entries(rejection.headers)) {
      handshake.response.setHeader(name, value);
    }
    const body = rejection.body ?? {
      statusCode: rejection.status,
      message: rejection.message,
      error: STATUS_CODES[rejection.status] ?? 'Error',
    };
    return new HttpException(body as Record<string, unknown>, rejection.status);
  }
}

/** RFC 7230 5.3.2: servers MUST accept the absolute form (`GET http://host/path`); routers match paths. */
function toOriginForm(request: IncomingMessage): void {
  const url = request.url ?? '/';
  if (url.startsWith('/')) return;
  const authority = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(url);
  if (!authority) return;
  const rest = url.slice(authority[0].length);
  request.url = rest.startsWith('/') ? rest : '/' + rest;
}
