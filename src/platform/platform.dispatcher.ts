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
import { HandshakeRejection, writeRejection } from '../errors/handshake-rejection.js';
import { handshakeTimedOutRejection } from '../handshake.messages.js';
import type { AcceptHandshake } from '../interfaces/accepted-handshake.interface.js';
import type { PendingHandshake } from '../interfaces/pending-handshake.interface.js';
import type { Route } from '../routing/route.js';
import type { RouteTable } from '../routing/route-table.js';
import { CoarseTimeouts, type TimeoutLane } from '../util/coarse-timeouts.js';
import { stackOf } from '../util/errors.js';
import { destroySocket } from '../util/socket.js';
import { kPendingHandshake, WEBSOCKET_HANDSHAKE } from '../ws.constants.js';
import { dispatchFailedMessage } from '../ws.messages.js';
import type { CommitTarget, HttpPlatform } from './http-platform.interface.js';
import { upgradeHeaderLines } from './upgrade-headers.js';

/** What the platform dispatch needs of the handshake step around it (it calls, never imports, it). */
export interface HandshakeSteps {
  /**
   * The route's own checks once the platform's router chose it: subprotocol, origin (unless the
   * route let it in before the app: `originAllowed`), capacity. The chosen subprotocol ('' for
   * none), or the rejection to answer. `platformRequest`: the platform's request object.
   */
  checkRoute(
    route: Route,
    request: IncomingMessage,
    platformRequest: unknown,
    originAllowed: readonly Route[],
  ): string | HandshakeRejection;
  /**
   * The route's connection limits (and shutdown) again just before the socket is handed on: the
   * platform's hooks may have let other handshakes of the route through meanwhile. Undefined when
   * there is room.
   */
  checkCapacity(route: Route): HandshakeRejection | undefined;
  /** Counts an answered (refused) handshake by status. */
  count(status: number): void;
}

type UpgradeRequest = IncomingMessage & Record<symbol, unknown>;

const NO_ROUTES: readonly Route[] = [];

/** One handshake while the platform dispatches it. */
class PlatformHandshake implements PendingHandshake, CommitTarget {
  settled = false;
  timer: TimeoutLane<PlatformHandshake> | undefined;
  /** The socket's `close` listener, removed once settled: an open connection must not keep this. */
  onClose: (() => void) | undefined;
  /** The routes whose origin rule let the request in before the app saw it. */
  originAllowed: readonly Route[] = NO_ROUTES;
  /** The subprotocol chosen once the route is known, for the 101. */
  protocol = '';
  /** The route the platform's router chose, and its request and response objects, once known. */
  route: Route | undefined = undefined;
  platformRequest: unknown = undefined;
  platformResponse: unknown = undefined;

  constructor(
    readonly dispatcher: PlatformDispatcher,
    readonly request: UpgradeRequest,
    readonly socket: Duplex,
    readonly head: Buffer,
    readonly response: ServerResponse,
  ) {}

  upgrade(controller: object, methodName: string | symbol, request: unknown, response: unknown) {
    this.dispatcher.upgrade(this, controller, methodName, request, response);
  }

  /** The platform answered 101 with these headers (see `HttpPlatform.commit`). */
  committed(headers: OutgoingHttpHeaders): void {
    this.dispatcher.open(this, headers);
  }
}

/** The handshake a response answers, for the shared `finish` listener. */
const kHandshake = Symbol('handshake');
type HandshakeResponse = ServerResponse<UpgradeRequest> & { [kHandshake]: PlatformHandshake };

function onResponseFinish(this: HandshakeResponse): void {
  const handshake = this[kHandshake];
  handshake.dispatcher.answered(handshake);
}

/**
 * Dispatches a valid upgrade request into the app as a request of its platform (Express, Fastify):
 * a `ServerResponse` on the socket (`Connection: close`, so any answer ends the exchange), then
 * the server's `request` listeners, i.e. the app's middleware, hooks and router, then the route's
 * Nest guards, interceptors and filters. The WebSocket route's handler calls back `upgrade()`,
 * which asks the handshake step for the route's checks, lets the platform commit its answer, and
 * hands the socket to `accept`. `handshakeTimeoutMs` bounds it all; a client that leaves meanwhile
 * costs nothing more.
 */
export class PlatformDispatcher {
  /** Handshakes being dispatched, answered at shutdown. */
  readonly pending = new Set<PlatformHandshake>();
  private readonly logger = new Logger('WebSocketRoute');
  /** `handshakeTimeoutMs`: one shared interval per delay, not a Node timer per handshake. */
  private readonly timeouts = new CoarseTimeouts<PlatformHandshake>((handshake) =>
    this.interrupt(handshake, handshakeTimedOutRejection()),
  );

  constructor(
    private readonly server: Server,
    private readonly platform: HttpPlatform,
    private readonly table: RouteTable,
    private readonly steps: HandshakeSteps,
    private readonly accept: AcceptHandshake<Route>,
    private readonly defaultTimeoutMs: number,
  ) {}

  /**
   * `request` passed the RFC 6455 checks and the origin check before the app (`originAllowed`: the
   * routes whose rule let it in); its URL is in origin form.
   */
  dispatch(
    request: UpgradeRequest,
    socket: Duplex,
    head: Buffer,
    originAllowed: readonly Route[],
  ): void {
    const response = new ServerResponse(request);
    response.shouldKeepAlive = false;
    response.assignSocket(socket as Socket);
    const handshake = new PlatformHandshake(this, request, socket, head, response);
    handshake.originAllowed = originAllowed;
    request[kPendingHandshake] = handshake;
    request[WEBSOCKET_HANDSHAKE] = true;
    this.platform.admit(request, response);
    const timeoutMs =
      this.table.handshakeTimeoutMs ??
      this.table.likelyRoute(request.url ?? '/')?.options.handshakeTimeoutMs ??
      this.defaultTimeoutMs;
    // `on`, not `once` (no wrapper): a response finishes once. One shared listener, no closure.
    (response as HandshakeResponse)[kHandshake] = handshake;
    response.on('finish', onResponseFinish);
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

  /**
   * A handshake the app is still dispatching (async): answered at shutdown or on timeout, freed when
   * the client leaves.
   */
  private track(handshake: PlatformHandshake, timeoutMs: number): void {
    this.pending.add(handshake);
    handshake.timer = this.timeouts.add(handshake, timeoutMs);
    handshake.onClose = () => this.settle(handshake);
    handshake.socket.on('close', handshake.onClose);
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
    const route = this.table.routeOf(controller, methodName, platform.routePath, request);
    const protocol = this.steps.checkRoute(
      route,
      handshake.request,
      request,
      handshake.originAllowed,
    );
    if (typeof protocol !== 'string') throw this.toException(handshake, protocol);
    handshake.protocol = protocol;
    handshake.route = route;
    handshake.platformRequest = request;
    handshake.platformResponse = response;
    platform.commit(response, handshake.response, handshake);
  }

  /** The platform answered 101 (its hooks may have taken a while): the connection step takes the socket. */
  open(handshake: PlatformHandshake, headers: OutgoingHttpHeaders): void {
    const { platform } = this;
    const { platformRequest: request, platformResponse: response } = handshake;
    const route = handshake.route!;
    // Meanwhile the client may have left, or a timeout or shutdown answered it.
    if (handshake.settled) {
      platform.hijack(response);
      return;
    }
    const { request: raw, socket, head } = handshake;
    raw[kPendingHandshake] = undefined;
    handshake.platformResponse = undefined;
    this.settle(handshake);
    handshake.response.detachSocket(socket as Socket);
    const headerLines = upgradeHeaderLines(headers);
    platform.hijack(response);
    platform.release(raw);
    // An async hook (Fastify's onSend) may have let other handshakes of the route open meanwhile.
    const full = this.steps.checkCapacity(route);
    if (full) {
      this.steps.count(full.status);
      writeRejection(socket, full);
      return;
    }
    socket.removeListener('error', destroySocket);
    this.accept(
      route,
      raw,
      socket,
      head,
      platform.params(request),
      request,
      handshake.protocol,
      headerLines,
    );
  }

  /** Shutdown: every handshake still being dispatched is answered `rejection`. */
  answerAll(rejection: HandshakeRejection): void {
    for (const handshake of this.pending) this.interrupt(handshake, rejection);
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
  answered(handshake: PlatformHandshake): void {
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
