import type { WebSocketMessage } from './websocket-message.interface.js';
import type { StreamPosition } from './stream-position.interface.js';

/** How much history one topic keeps (Centrifugo's `history_size` / `history_ttl`). */
export interface TopicHistoryOptions {
  /** Most publications kept per topic. Default 100. */
  size?: number;
  /** How long a topic's history lives after its last publication (ms). Default 300000 (5 min). */
  ttlMs?: number;
  /** Most publications one resume may replay; past it `recovered: false, reason: 'limit'`. Default `size`. */
  recoveryLimit?: number;
  /**
   * Builds the payload sockets receive from a publication's data and position, e.g.
   * `(data, { offset, epoch }) => JSON.stringify({ offset, epoch, data })`. Called once per
   * publication for all local subscribers (and once per replayed publication per resuming
   * connection). Default: the data as published (the position does not reach the client).
   */
  payload?: (data: WebSocketMessage, position: StreamPosition, topic: string) => WebSocketMessage;
}

/**
 * `WsModule.forRoot({ history })`: which topics keep history. Off by default: a topic matching
 * no pattern and no `default` keeps none.
 */
export interface HistoryOptions {
  /**
   * Per topic pattern: an exact topic, or a prefix ending in `*` (e.g. `'room:*'`). An exact
   * topic wins over every prefix; among prefixes, the first matching one in the object's order.
   * Numbers must be integers >= 1 and `payload` a function: bootstrap fails otherwise.
   */
  topics?: Record<string, TopicHistoryOptions>;
  /** For topics no pattern matches. Default none: no history. */
  default?: TopicHistoryOptions;
  /**
   * With a broker that keeps the history (`RedisBroker`): how often, in ms, each instance reads
   * back the stream of every topic it follows that got no publication since the last check, so
   * that a publication Pub/Sub lost without a reconnection (which would otherwise only show at the
   * topic's next publication) reaches its subscribers within `2 × positionCheckMs`. One read per
   * quiet topic per check; busy topics cost nothing. Default 40000 (Centrifugo's
   * `client_channel_position_check_delay`); 0 turns it off. Not an integer from 0 to 2147483647:
   * bootstrap fails.
   */
  positionCheckMs?: number;
}

/** @internal `TopicHistoryOptions` with its defaults applied. */
export interface ResolvedTopicHistory {
  size: number;
  ttlMs: number;
  recoveryLimit: number;
  payload: TopicHistoryOptions['payload'];
}
