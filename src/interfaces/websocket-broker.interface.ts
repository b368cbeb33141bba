import type { WebSocketMessage } from './websocket-message.interface.js';
import type { StreamPosition, StreamRead } from './stream-position.interface.js';

/** How much history a broker keeps for a topic: most publications, and for how long after the last (ms). */
export interface StreamLimits {
  size: number;
  ttlMs: number;
}

/**
 * A `registry.publish()` or `registry.broadcast()` on its way to the other instances. The origin
 * instance has already served its own sockets; `except` does not travel (a handler lives on one
 * instance only).
 *
 * A publication of a topic with history, sent to a broker that has `readStream`, is the
 * exception: it carries `history` (the broker appends it to the topic's stream and gives it the
 * next offset) and `except` (the id of the connection to leave out); the broker delivers it to
 * every instance, the origin included, with its `position`.
 */
export type BrokerMessage =
  | {
      kind: 'publish';
      topic: string;
      data: WebSocketMessage;
      /** Set by the registry: keep this publication in the topic's stream. */
      history?: StreamLimits;
      /** Set by the broker on delivery: the publication's place in the topic's stream. */
      position?: StreamPosition;
      /** The id of the connection to leave out (sequenced publications only). */
      except?: string;
    }
  | { kind: 'broadcast'; path: string | undefined; data: WebSocketMessage };

/** What a broker reports in `registry.stats().broker`. */
export interface BrokerStats {
  /** The broker's name, e.g. `'in-process'` or `'redis'`. */
  name: string;
  /**
   * Whether messages currently reach the other instances (`RedisBroker`: connected, and no
   * failure in the last 3 s, e.g. while a Redis Cluster shard is down).
   */
  connected: boolean;
  /** Messages handed to the transport for the other instances. */
  published: number;
  /**
   * Messages received from other instances and delivered to this instance's sockets. With a
   * broker that routes by interest (`RedisBroker`'s default), only publications of topics this
   * instance follows, and broadcasts.
   */
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
  /**
   * Optional, with history: reads a topic's stream after offset `since`, at most `limit`
   * publications, oldest first, with the stream's epoch and top offset (creating the epoch if the
   * stream has none yet). A broker that has it sequences publications that carry `history` and
   * delivers them to every instance, the origin included. Rejects when the transport is down.
   */
  readStream?(
    topic: string,
    since: number,
    limit: number,
    limits: StreamLimits,
  ): Promise<StreamRead>;
  /**
   * Optional: called once the transport is back after an outage (publications may have been
   * missed); the registry then reads every stream it follows from its last offset. With `topic`:
   * the broker's subscription to that topic is now confirmed (see `topicJoined`), so the registry
   * reads that topic's stream from its last offset (what passed before the subscription). Set by
   * the registry before `start()`.
   */
  onResync?: (topic?: string) => void;
  /**
   * Optional: this instance's first socket subscribed to `topic` (`topicJoined`, called when
   * `handler.subscribe()` starts, before any resume), or its last one left (`topicLeft`), for
   * brokers that subscribe per topic (e.g. `RedisBroker`'s interest routing, sharded Pub/Sub).
   * Called outside the publish path; must not throw.
   */
  topicJoined?(topic: string): void;
  /** See `topicJoined`. */
  topicLeft?(topic: string): void;
}
