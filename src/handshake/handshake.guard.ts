import { HttpException, Logger } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WEBSOCKET_HANDSHAKE } from '../ws.constants.js';
import { guardFailedMessage } from '../ws.messages.js';
import { HandshakeRejection, internalErrorRejection } from './handshake-rejection.js';

/** Runs a route's Nest guards with `(request, socket)` as the `http` arguments; throws when one refuses. */
export type GuardsRunner = (args: [IncomingMessage, Duplex]) => Promise<void>;

const TIMED_OUT = Symbol('timed out');

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
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(reject, this.timeoutMs, TIMED_OUT);
      // After shutdown answered the handshake, a guard still running must not hold the process.
      timer.unref();
    });
    try {
      await Promise.race([this.runGuards([request, socket]), timeout]);
      return undefined;
    } catch (error) {
      return this.toRejection(error);
    } finally {
      clearTimeout(timer);
    }
  }

  private toRejection(error: unknown): HandshakeRejection {
    if (error === TIMED_OUT)
      return new HandshakeRejection(503, 'Handshake timed out', { 'Retry-After': '1' });
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
