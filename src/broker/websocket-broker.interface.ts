import type { WebSocketMessage } from '../handler/websocket-handler.js';

/**
 * A `registry.publish()` or `registry.broadcast()` on its way to the other instances. The origin
 * instance has already served its own sockets; `except` does not travel (a handler lives on one
 * instance only).
 */
export type BrokerMessage =
  | { kind: 'publish'; topic: string; data: WebSocketMessage }
  | { kind: 'broadcast'; path: string | undefined; data: WebSocketMessage };

/** What a broker reports in `registry.stats().broker`. */
export interface BrokerStats {
  /** The broker's name, e.g. `'in-process'` or `'redis'`. */
  name: string;
  /** Whether messages currently reach the other instances. */
  connected: boolean;
  /** Messages handed to the transport for the other instances. */
  published: number;
  /** Messages received from other instances and delivered to this instance's sockets. */
  received: number;
  /**
   * Messages that did not reach the other instances: published while disconnected, or refused by
   * the transport. They were delivered to this instance's sockets only.
   */
  undelivered: number;
}

/**
 * Carries `publish` and `broadcast` between the instances of an application, so that each reaches
 * the sockets of every instance. `WsModule.forRoot({ broker })` takes one; the default,
 * `InProcessBroker`, has no other instances to reach.
 *
 * A broker must deliver each message to every *other* instance once, and never back to the
 * instance that published it (that one serves its own sockets without a round trip). It must
 * survive a lost connection on its own: `publish` never throws, and what it could not send is
 * counted in `stats().undelivered` and logged. `encodeBrokerMessage`/`decodeBrokerMessage` give a
 * byte format that keeps text and binary apart and tags the origin instance.
 *
 * @example A NATS broker in outline
 * ```ts
 * class NatsBroker implements WebSocketBroker {
 *   async start(deliver) {
 *     this.nc = await connect({ servers, noEcho: true }); // noEcho: never our own messages
 *     this.nc.subscribe('ws', { callback: (_, m) => deliver(decodeBrokerMessage(m.data).message) });
 *   }
 *   publish(message) { this.nc.publish('ws', encodeBrokerMessage(message, this.id)); }
 *   ...
 * }
 * ```
 */
export interface WebSocketBroker {
  /**
   * Called once at bootstrap with the function that hands a message from another instance to this
   * instance's sockets. Bootstrap waits for it: resolve once subscribed, or once it is clear the
   * transport is not reachable yet (then keep trying in the background).
   */
  start(deliver: (message: BrokerMessage) => void): Promise<void>;
  /** Sends a message to every other instance. Never throws. */
  publish(message: BrokerMessage): void;
  /** Counters for `registry.stats()`. */
  stats(): BrokerStats;
  /** Called at application shutdown: close connections. */
  stop(): Promise<void>;
}
