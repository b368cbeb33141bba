import { HttpException, Logger } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WEBSOCKET_HANDSHAKE } from '../ws.constants.js';
import { raceTimeout, TIMED_OUT } from '../util/async.js';
import { guardFailedMessage, handshakeTimedOutReason } from '../ws.messages.js';
import { HandshakeRejection, internalErrorRejection } from './handshake-rejection.js';

/** Runs a route's Nest guards with `(request, socket)` as the `http` arguments; throws when one refuses. */
export type GuardsRunner = (args: [IncomingMessage, Duplex]) => Promise<void>;

/**
 * The Nest half of a route's handshake guard: runs the route's guards (global, controller, method,
 * in Nest's order) against the upgrade request, bounded by `handshakeTimeoutMs`, and turns their
 * verdict into an HTTP answer the way Nest's exception filter would.
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
    if (error === TIMED_OUT)
      return new HandshakeRejection(503, handshakeTimedOutReason, { 'Retry-After': '1' });
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
