import { Injectable } from '@nestjs/common';

/** What a token bucket says about one message. */
export type RateVerdict = 'allowed' | 'limited' | 'abusive';

/**
 * One connection's token bucket: `burst` messages at once, then `perSecond`. Refilled lazily from
 * the clock when a message arrives, so it needs no timer.
 */
export class TokenBucket {
  private tokens: number;
  private refilledAt = Date.now();
  private strikes = 0;

  constructor(
    private readonly burst: number,
    private readonly perSecond: number,
    private readonly maxStrikes: number,
  ) {
    this.tokens = burst;
  }

  /** `limited`: drop this message; `abusive`: `maxStrikes` messages in a row were over the limit. */
  take(now = Date.now()): RateVerdict {
    this.tokens = Math.min(
      this.burst,
      this.tokens + ((now - this.refilledAt) / 1000) * this.perSecond,
    );
    this.refilledAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      this.strikes = 0;
      return 'allowed';
    }
    return ++this.strikes >= this.maxStrikes ? 'abusive' : 'limited';
  }
}

/**
 * The chat's rate limit, an injectable so it is configured in one place (and replaceable in a
 * test module): 8 messages at once, then 2 a second; 10 refused in a row end the connection.
 */
@Injectable()
export class RateLimiter {
  readonly burst = 8;
  readonly perSecond = 2;
  readonly maxStrikes = 10;

  createBucket(): TokenBucket {
    return new TokenBucket(this.burst, this.perSecond, this.maxStrikes);
  }
}
