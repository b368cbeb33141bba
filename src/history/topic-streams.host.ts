import type { WebSocketHandler } from '../handler/websocket-handler.js';
import type { WebSocketMessage } from '../interfaces/websocket-message.interface.js';
import type { ContinuityLoss } from '../interfaces/stream-position.interface.js';

/** @internal what the history layer needs from the registry. */
export interface TopicStreamsHost {
  /** Frames `payload` once for `topic`'s local subscribers, leaving out connection id `except`. */
  emit(topic: string, payload: WebSocketMessage, except: string | undefined): number;
  /** Sends one replayed publication to `handler` (corked with the others of its replay). */
  deliver(handler: WebSocketHandler, payload: WebSocketMessage): void;
  /** Makes `handler` a subscriber of `topic` (its resume is complete); false if it has gone. */
  join(handler: WebSocketHandler, topic: string): boolean;
  /** Tells `handlers` (or, without, the topic's subscribers) that continuity was lost. */
  lost(loss: ContinuityLoss, handlers?: Iterable<WebSocketHandler>): void;
}
