/**
 * What a connection shares about itself in a topic's presence: a small JSON-serialisable record
 * given by the application, e.g. `{ name: 'Ada' }` (Centrifugo's `info`, Phoenix's `meta`).
 */
export type PresenceInfo = Record<string, unknown>;

/** One connection in a topic's presence. */
export interface PresenceMember {
  /** The connection's id (`handler.id`, unique across instances; Centrifugo's `client`). */
  clientId: string;
  /** What the connection gave to `handler.joinPresence(topic, info)`. */
  info: PresenceInfo;
}

/**
 * Who joined and who left one topic's presence, as `registry.presence$` and the handler hook
 * `onPresence()` report it (Phoenix's `presence_diff`). On every instance, once per change.
 */
export interface PresenceEvent {
  topic: string;
  /** Members that joined (or came back after their entry had expired). */
  joins: PresenceMember[];
  /** Members that left: closed, called `leavePresence()`, or expired with a dead instance. */
  leaves: PresenceMember[];
}

/** What a presence store reports in `registry.stats().presence`. */
export interface PresenceStats {
  /** The store's name, e.g. `'in-process'` or `'redis'`. */
  name: string;
  /**
   * Whether the store is reachable now (always true in process); `RedisPresence`: connected, and
   * its last command did not time out (a Redis that is connected but does not answer is not).
   */
  connected: boolean;
  /** Members of this instance, over all topics. */
  members: number;
}

/**
 * Keeps the cluster-wide presence of topics: who is here, with joins and leaves.
 * `WsModule.forRoot({ presence })` takes one; the default, `InProcessPresence`, serves one instance.
 * `RedisPresence` shares it between the instances on one Redis and drops the members of an
 * instance that died within a documented bound.
 *
 * The registry calls `join`/`leave` for this instance's connections only; a store reports every
 * change, this instance's included, through the `emit` function given to `start`.
 */
export interface WebSocketPresence {
  /** Called once at bootstrap with the function that reports changes (from every instance). */
  start(emit: (event: PresenceEvent) => void): Promise<void>;
  /** Records `member` in `topic`'s presence (again, with new info, if it is there). */
  join(topic: string, member: PresenceMember): Promise<void>;
  /** Removes the connection `clientId` from `topic`'s presence; nothing if it is not there. */
  leave(topic: string, clientId: string): Promise<void>;
  /** The members of `topic` on every instance. */
  list(topic: string): Promise<PresenceMember[]>;
  /** How many members `topic` has on every instance. */
  count(topic: string): Promise<number>;
  /** Counters for `registry.stats().presence`. */
  stats(): PresenceStats;
  /** Called at application shutdown, after the connections closed: finish pending leaves, close. */
  stop(): Promise<void>;
}
