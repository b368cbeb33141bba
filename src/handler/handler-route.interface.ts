import type { RecoveryResult, SubscribeOptions } from '../interfaces/stream-position.interface.js';
import type { PresenceInfo } from '../interfaces/presence.interface.js';

/**
 * What a handler needs of its route: the options it reads, the counters it updates and the two
 * services it calls. `Route` implements it; the handler declares it so that it never imports the
 * routing (no import cycle).
 */
export interface HandlerRoute {
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
  readonly lifecycle: HandlerServices;
}

/**
 * The services a handler calls: topic subscriptions (with resume), presence, and running its own
 * hooks (`onDrain`).
 */
export interface HandlerServices {
  readonly registry: {
    subscribe(handler: object, topic: string, options?: SubscribeOptions): Promise<RecoveryResult>;
    unsubscribe(handler: object, topic: string): void;
    joinPresence(handler: object, topic: string, info: PresenceInfo): Promise<void>;
    leavePresence(handler: object, topic: string): Promise<void>;
  };
  runHook<T>(handler: object, hook: ((arg: T) => unknown) | undefined, arg?: T): void;
}
