import type { StreamPosition } from './position.interface.js';
import type { WebSocketMessage } from './websocket-message.interface.js';

export type { StreamPosition };

/** A publication read back from a topic's history. */
export interface StreamPublication {
  offset: number;
  data: WebSocketMessage;
}

/** What a history read returns: the stream's epoch and top offset, and the publications after `since`. */
export interface StreamRead {
  epoch: string;
  /** The offset of the newest publication (0 if none yet). */
  top: number;
  /** Publications with an offset above the one asked for, oldest first, at most the limit asked for. */
  publications: StreamPublication[];
}

/**
 * Why a recovery was incomplete: `'epoch'` the stream is not the one the position belongs to (its
 * history was lost); `'too-old'` the publications after the position were trimmed or expired;
 * `'limit'` more were missed than the topic's `recoveryLimit`; `'invalid'` the position is not one
 * this stream could have given (negative or non-integer offset, beyond the top, no epoch);
 * `'no-history'` the topic keeps no history; `'unavailable'` the broker could not be reached; `'closed'` the connection closed, or
 * unsubscribed the topic, before the subscription completed (nothing was replayed).
 */
export type RecoveryFailureReason =
  'epoch' | 'too-old' | 'limit' | 'invalid' | 'no-history' | 'unavailable' | 'closed';

/** Options of `handler.subscribe(topic, options)`. */
export interface SubscribeOptions {
  /**
   * The last position the client saw on this topic (after a reconnect). The publications after it
   * are sent, in order, before the live ones. Untrusted input is fine: anything that is not a
   * position of this stream gets `recovered: false` with a reason, never an exception.
   */
  since?: StreamPosition;
}

/**
 * What `handler.subscribe()` resolves to (Centrifugo's `recovered` flag). Without `since`,
 * `recovered` is true (nothing was asked for). When false, nothing of the history was replayed:
 * the connection gets the live publications from `position` on, and the application should reload
 * its state.
 */
export interface RecoveryResult {
  /** Whether every publication after `since` was sent (or none was asked for). */
  recovered: boolean;
  /** Why not, when `recovered` is false. */
  reason?: RecoveryFailureReason;
  /**
   * How many publications the connection was sent before `subscribe()` resolved: those read back
   * from the history and, with a sequencing broker (`RedisBroker`), the live ones that arrived
   * while it was read (sent after them, in order, once; `position` includes them). When
   * `recovered` is false, only the latter (the history after `since` is not replayed).
   */
  replayed: number;
  /**
   * The position the connection is at now; undefined for a topic without history. With a
   * sequencing broker (`RedisBroker`) nothing after it is sent before the next event-loop turn,
   * so a frame the handler sends right after `await subscribe()` precedes the later publications
   * (Centrifugo sends its subscribe reply before them, for the same reason).
   */
  position: StreamPosition | undefined;
}

/** What `handler.onContinuityLost()` gets (Centrifugo's "insufficient state"). */
export interface ContinuityLoss {
  topic: string;
  /** `'epoch'` the stream's history was lost; `'too-old'` the missed publications were trimmed. */
  reason: 'epoch' | 'too-old';
  /** Where the live stream goes on from. */
  position: StreamPosition;
}
