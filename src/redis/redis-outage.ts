import type { Logger } from '@nestjs/common';

/** What a Redis store logs about its outages (texts of its `*.messages.ts`). */
export interface OutageTexts {
  /** An outage began after Redis had been reached (`cause`: the error, `'connection closed'`, ...). */
  lost(cause: string): string;
  /** An outage began before Redis was ever reached. Default: the `lost` text. */
  unreachable?(cause: string): string;
  /** The first thing an outage cost (a message not delivered): logged once per outage. */
  missed?(): string;
  /** The outage ended; `missed`: how many things it cost. */
  restored(missed: number): string;
}

/**
 * The outage bookkeeping `RedisBroker` and `RedisPresence` share: whether Redis is away now, one
 * warning when an outage begins (and one at its first miss), one line when it ends. What counts as
 * away or back is the store's own decision (its clients' events, a shard check, a quiet period).
 */
export class RedisOutage {
  /** What the ongoing outage cost so far; undefined while there is none. */
  private missed: number | undefined;
  private reached = false;

  constructor(
    private readonly logger: Logger,
    private readonly texts: OutageTexts,
  ) {}

  /** Whether an outage is on. */
  get ongoing(): boolean {
    return this.missed !== undefined;
  }

  /**
   * Redis went away: an outage begins, logged as lost or, before Redis was first reached (or
   * with `unreachable`), as not reachable. Nothing while one is on.
   */
  begin(cause: string, unreachable = !this.reached): void {
    if (this.missed !== undefined) return;
    this.missed = 0;
    const { lost, unreachable: notReachable = lost } = this.texts;
    this.logger.warn(unreachable ? notReachable(cause) : lost(cause));
  }

  /** Something failed for want of Redis: counted in the outage (begun if none is on, unlogged). */
  miss(): void {
    this.missed ??= 0;
    if (this.missed++ === 0 && this.texts.missed !== undefined) {
      this.logger.warn(this.texts.missed());
    }
  }

  /** Redis is reached: an ongoing outage ends, logged with what it cost. */
  end(): void {
    this.reached = true;
    const missed = this.missed;
    if (missed === undefined) return;
    this.missed = undefined;
    this.logger.log(this.texts.restored(missed));
  }
}
