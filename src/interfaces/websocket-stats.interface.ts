import type { BrokerStats } from './websocket-broker.interface.js';
import type { PresenceStats } from './presence.interface.js';

/** Traffic counters of a route, or of all routes together. */
export interface WebSocketTrafficStats {
  /** Connections open now. */
  open: number;
  /** Messages received. */
  messagesIn: number;
  /** Messages sent (including those of `broadcast` and `publish`). */
  messagesOut: number;
  /** Payload length received (bytes). */
  bytesIn: number;
  /** Payload length sent (bytes for binary, characters for text). */
  bytesOut: number;
  /** Sends refused by the backpressure policy (`maxBackpressure`). */
  dropped: number;
  /**
   * Sends refused because the connection was already closing or closed (`send()`, `sendAsync()`):
   * nothing was written. Normal when timers outlive a peer that is leaving; see `sendAfterClose`.
   */
  sentAfterClose: number;
}

/** What `WebSocketRegistry.stats()` returns: this instance's counters since bootstrap. */
export interface WebSocketStats {
  /** Connections open now. */
  connections: number;
  /** Topics with at least one subscriber. */
  topics: number;
  /** Per route, by full path pattern (e.g. `'/chat/:room'`). */
  routes: Record<string, WebSocketTrafficStats>;
  /** All routes together. */
  total: WebSocketTrafficStats;
  /** Refused handshakes by HTTP status, e.g. `{ 403: 2, 503: 1 }`. */
  rejectedHandshakes: Record<number, number>;
  /** The broker's counters (`name: 'in-process'` without one). */
  broker: BrokerStats;
  /** The presence store's state and this instance's members (`name: 'in-process'` by default). */
  presence: PresenceStats;
}
