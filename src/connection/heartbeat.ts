import { WebSocket } from 'ws';
import type { WebSocketHandler } from '../handler/websocket-handler.js';
import { kAlive, kLastMessageAt, kSocket } from '../handler/handler.symbols.js';

/**
 * One timer per distinct interval, not one per connection: every `heartbeatMs` the connections on
 * that interval that sent nothing since the last tick are terminated (their `onClose` gets 1006)
 * and the others are pinged. A silent peer is therefore freed within two intervals.
 * The same wheel closes idle connections (`idleTimeoutMs`) with 1001, checked four times per
 * timeout so a connection closes between 1 and 1.25 timeouts after its last message.
 */
export class Heartbeat {
  private readonly heartbeats = new Map<number, Wheel>();
  private readonly idleChecks = new Map<number, Wheel>();

  add(handler: WebSocketHandler, heartbeatMs: number, idleTimeoutMs: number): void {
    if (heartbeatMs > 0) this.wheel(this.heartbeats, heartbeatMs, heartbeatMs, beat).add(handler);
    if (idleTimeoutMs > 0) {
      const period = Math.max(10, Math.floor(idleTimeoutMs / 4));
      this.wheel(this.idleChecks, idleTimeoutMs, period, closeIfIdle).add(handler);
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
    visit: (handler: WebSocketHandler, key: number, now: number) => void,
  ): Wheel {
    let wheel = wheels.get(key);
    if (!wheel) {
      wheel = new Wheel(key, period, visit);
      wheels.set(key, wheel);
    }
    return wheel;
  }
}

/** A set of connections visited by one shared timer, which runs only while the set is not empty. */
class Wheel {
  private readonly members = new Set<WebSocketHandler>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly key: number,
    private readonly period: number,
    private readonly visit: (handler: WebSocketHandler, key: number, now: number) => void,
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
    if (this.members.size === 0) this.stop();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const now = Date.now();
    for (const handler of this.members) this.visit(handler, this.key, now);
  }
}

function beat(handler: WebSocketHandler): void {
  const socket = handler[kSocket];
  if (socket.readyState !== WebSocket.OPEN) return;
  if (!handler[kAlive]) {
    socket.terminate();
    return;
  }
  handler[kAlive] = false;
  socket.ping();
}

function closeIfIdle(handler: WebSocketHandler, idleTimeoutMs: number, now: number): void {
  if (now - handler[kLastMessageAt] >= idleTimeoutMs && handler.isOpen) {
    handler.close(1001, 'idle timeout');
  }
}
