import type { RecoveryResult, SubscribeOptions } from '../interfaces/stream-position.interface.js';
import type { PresenceInfo } from '../interfaces/presence.interface.js';

/**
 * What a handler needs of the library: its route's options and counters, topic subscriptions (with
 * resume), presence, and running its own hooks (`onDrain`). The connection step sets it on each
 * handler when the connection opens (one pointer to an object shared by the route's connections);
 * the handler declares it, so it imports none of the layers above it.
 */
export interface HandlerContext {
  readonly options: {
    readonly maxBackpressure: number;
    readonly backpressure: 'close' | 'drop';
    readonly sendAfterClose: 'throw' | 'ignore';
  };
  readonly counters: {
    messagesOut: number;
    bytesOut: number;
    dropped: number;
    sentAfterClose: number;
  };
  subscribe(handler: object, topic: string, options?: SubscribeOptions): Promise<RecoveryResult>;
  unsubscribe(handler: object, topic: string): void;
  joinPresence(handler: object, topic: string, info: PresenceInfo): Promise<void>;
  leavePresence(handler: object, topic: string): Promise<void>;
  /** The handler's id was made (on first read): the registry can find an open connection by it. */
  identified(handler: object, id: string): void;
  /** Runs one of the handler's hooks, routing a throw or a rejection to the route's error handling. */
  runHook<T>(handler: object, hook: ((arg: T) => unknown) | undefined, arg?: T): void;
}
