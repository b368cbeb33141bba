import { WebSocket } from 'ws';
import type { WebSocketHandler } from '../handler/websocket-handler.js';
import { kAlive, kIdleTicks, kSocket } from '../handler/handler.symbols.js';
import { WebSocketCloseCode } from '../close-codes.js';

/** Idle checks per `idleTimeoutMs`: a connection closes between 1 and 1.25 timeouts after its last message. */
const IDLE_CHECKS_PER_TIMEOUT = 4;
const MIN_IDLE_CHECK_MS = 10;

/**
 * One timer per distinct interval, not one per connection: every `heartbeatMs` the connections on
 * that interval that sent nothing since the last tick are terminated (their `onClose` gets 1006)
 * and the others are pinged. A silent peer is therefore freed within two intervals.
 * The same kind of wheel closes idle connections (`idleTimeoutMs`) with 1001 "idle timeout".
 * Messages only reset two fields on the handler; no clock is read per message.
 */
export class Heartbeat {
  private readonly heartbeats = new Map<number, Wheel>();
  private readonly idleChecks = new Map<number, Wheel>();

  add(handler: WebSocketHandler, heartbeatMs: number, idleTimeoutMs: number): void {
    if (heartbeatMs > 0)
      this.wheel(this.heartbeats, heartbeatMs, heartbeatMs, 0, beat).add(handler);
    if (idleTimeoutMs > 0) {
      const period = Math.max(
        MIN_IDLE_CHECK_MS,
        Math.floor(idleTimeoutMs / IDLE_CHECKS_PER_TIMEOUT),
      );
      // ticks that make a whole timeout; the first tick after a message may come at once
      const ticks = Math.ceil(idleTimeoutMs / period);
      this.wheel(this.idleChecks, idleTimeoutMs, period, ticks, closeIfIdle).add(handler);
    }
  }

  remove(handler: WebSocketHandler, heartbeatMs: number, idleTimeoutMs: number): void {
    if (heartbeatMs > 0) this.heartbeats.get(heartbeatMs)?.delete(handler);
    if (idleTimeoutMs > 0) this.idleChecks.get(idleTimeoutMs)?.delete(handler);
  }

  /** Stops every timer (at shutdown). */
  stop(): void {
    for (const wheel of [...this.heartbeats.values(), ...this.idleChecks.values()]) wheel.stop();
    this.heartbeats.clear();
    this.idleChecks.clear();
  }

  private wheel(
    wheels: Map<number, Wheel>,
    key: number,
    period: number,
    ticks: number,
    visit: Visit,
  ): Wheel {
    let wheel = wheels.get(key);
    if (!wheel) {
      wheel = new Wheel(period, ticks, visit);
      wheels.set(key, wheel);
    }
    return wheel;
  }
}

type Visit = (handler: WebSocketHandler, ticks: number) => void;

/**
 * A set of connections visited by one shared timer, which runs while the set has members and stops
 * at the first tick that finds it empty: connections that come and go (a reconnect storm) do not
 * start and stop a timer each.
 */
class Wheel {
  private readonly members = new Set<WebSocketHandler>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly period: number,
    private readonly ticks: number,
    private readonly visit: Visit,
  ) {}

  add(handler: WebSocketHandler): void {
    this.members.add(handler);
    if (!this.timer) {
      this.timer = setInterval(() => this.tick(), this.period);
      this.timer.unref();
    }
  }

  delete(handler: WebSocketHandler): void {
    this.members.delete(handler);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    if (this.members.size === 0) this.stop();
    for (const handler of this.members) this.visit(handler, this.ticks);
  }
}

function beat(handler: WebSocketHandler): void {
  const socket = handler[kSocket];
  if (socket.readyState !== WebSocket.OPEN) return;
  if (!handler[kAlive]) {
    handler.terminate();
    return;
  }
  handler[kAlive] = false;
  socket.ping();
}

function closeIfIdle(handler: WebSocketHandler, ticks: number): void {
  if (++handler[kIdleTicks] > ticks && handler.isOpen)
    handler.close(WebSocketCloseCode.GOING_AWAY, 'idle timeout');
}
