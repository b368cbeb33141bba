import type { StreamPosition } from '../interfaces/position.interface.js';

/** A close as the client saw it: the code and reason of the close frame (1006 when there was none). */
export interface CloseInfo {
  code: number;
  reason: string;
}

/**
 * `message`: a message from the server. For a publication of the resume convention, `data` is
 * the published text and `topic` and `position` say where it sits; for any other frame they are
 * undefined and `data` is the frame as the WebSocket gave it.
 */
export class StreamMessageEvent extends Event {
  constructor(
    readonly data: unknown,
    readonly topic?: string,
    readonly position?: StreamPosition,
  ) {
    super('message');
  }
}

/** `reconnecting`: attempt `attempt` (from 1) starts in `delayMs` ms, after `lastClose`. */
export class ReconnectingEvent extends Event {
  constructor(
    readonly attempt: number,
    readonly delayMs: number,
    readonly lastClose: CloseInfo,
  ) {
    super('reconnecting');
  }
}

/**
 * `lost`: continuity of `topic` is lost (Centrifugo's "insufficient state"): publications were
 * missed and cannot be replayed, so the app reloads that topic's state. `topic` is undefined after
 * a close 3000 when no topic's position was known yet. `reason`: a `RecoveryFailureReason` from
 * the server (`'epoch'`, `'too-old'`, …) or `'lost continuity'` after a close 3000.
 */
export class LostEvent extends Event {
  constructor(
    readonly topic: string | undefined,
    readonly reason: string,
  ) {
    super('lost');
  }
}

/**
 * Why the client stopped for good: `'client'` `close()` was called; `'server'` the server closed
 * with a code that says do not reconnect (1000, 1008, 3500-3999, 4500-4999, …); `'refused'` the
 * handshake was refused (a 4xx seen by `ws`, or `maxRefused` closes before `open` in a row);
 * `'attempts'` `maxAttempts` reconnect attempts in a row failed.
 */
export type CloseCause = 'client' | 'server' | 'refused' | 'attempts';

/** `close`: the client stopped and will not reconnect; `code` and `reason` of the last close. */
export class FinalCloseEvent extends Event {
  constructor(
    readonly code: number,
    readonly reason: string,
    readonly cause: CloseCause,
  ) {
    super('close');
  }
}

/** The client's events and what each listener receives. */
export interface ReconnectingWebSocketEventMap {
  /** Every connection that opened, the first and each after a reconnect. */
  open: Event;
  message: StreamMessageEvent;
  reconnecting: ReconnectingEvent;
  lost: LostEvent;
  close: FinalCloseEvent;
}
