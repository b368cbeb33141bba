import { HttpException, Logger, type CanActivate } from '@nestjs/common';
import type { ExternalContextCreator } from '@nestjs/core';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { HandshakeRejection } from '../errors/handshake-rejection.js';
import { handshakeTimedOutRejection, internalErrorRejection } from '../handshake.messages.js';
import { enhancerCreatorsOf } from '../internals/nest.internals.js';
import type { Route } from '../routing/route.js';
import { WEBSOCKET_HANDSHAKE } from '../ws.constants.js';
import { raceTimeout, TIMED_OUT } from '../util/async.js';
import { guardFailedMessage } from '../ws.messages.js';

/** Runs a route's Nest guards with `(request, socket)` as the `http` arguments; throws when one refuses. */
export type GuardsRunner = (args: [IncomingMessage, Duplex]) => Promise<void>;

/**
 * The Nest half of a route's handshake guard on the standalone port: runs the route's guards
 * (global, controller, method, in Nest's order) against the upgrade request, bounded by
 * `handshakeTimeoutMs`, and turns their verdict into an HTTP answer the way Nest's exception filter
 * would. (On an HTTP app Nest's router runs them, as for a `GET` route.)
 */
export class HandshakeGuard {
  private readonly logger = new Logger('WebSocketRoute');

  constructor(
    private readonly runGuards: GuardsRunner,
    private readonly path: string,
    private readonly timeoutMs: number,
  ) {}

  /** Resolves undefined when every guard allows the handshake, or the rejection to answer. */
  async check(request: IncomingMessage, socket: Duplex): Promise<HandshakeRejection | undefined> {
    (request as IncomingMessage & Record<symbol, unknown>)[WEBSOCKET_HANDSHAKE] = true;
    try {
      // Unref: after shutdown answered the handshake, a guard still running must not hold the process.
      const outcome = await raceTimeout(this.runGuards([request, socket]), this.timeoutMs, true);
      return outcome === TIMED_OUT ? this.toRejection(TIMED_OUT) : undefined;
    } catch (error) {
      return this.toRejection(error);
    }
  }

  private toRejection(error: unknown): HandshakeRejection {
    if (error === TIMED_OUT) return handshakeTimedOutRejection();
    if (error instanceof HttpException) {
      const status = error.getStatus();
      const response = error.getResponse();
      const body =
        typeof response === 'object' ? response : { statusCode: status, message: response };
      return new HandshakeRejection(status, error.message, {}, body);
    }
    this.logger.error(
      guardFailedMessage(this.path),
      error instanceof Error ? error.stack : String(error),
    );
    return internalErrorRejection();
  }
}

/**
 * The guards of every route that has any, for the standalone port. A route without guards has no
 * entry: its handshake skips the guard machinery entirely and stays synchronous.
 */
export function createHandshakeGuards(
  contextCreator: ExternalContextCreator,
  routes: readonly Route[],
): Map<Route, HandshakeGuard> {
  const guards = new Map<Route, HandshakeGuard>();
  for (const route of routes) {
    const run = createGuardsRunner(contextCreator, route);
    if (run)
      guards.set(route, new HandshakeGuard(run, route.path, route.options.handshakeTimeoutMs));
  }
  return guards;
}

/**
 * The route's guards as one function, or null when no guard applies. Refusal throws like Nest's
 * router does: `ForbiddenException` for `false`, or whatever the guard threw.
 */
function createGuardsRunner(
  contextCreator: ExternalContextCreator,
  route: Route,
): GuardsRunner | null {
  const { controller, method } = route;
  const guards: CanActivate[] = enhancerCreatorsOf(contextCreator).guardsContextCreator.create(
    controller,
    method,
    route.module.token,
  );
  const canActivate = contextCreator.createGuardsFn(guards, controller, method, 'http');
  if (!canActivate) return null;
  return (args) => canActivate(args) as Promise<void>;
}
